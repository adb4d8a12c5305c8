using ChatVector.Core.Tensors;

namespace ChatVector.Core.Inference;

/// <summary>
/// libtorch's CPU threads during a forward pass. Merges run one chunk per core on their own workers and
/// keep libtorch at one thread; a forward pass is one big matmul at a time, so it wants every core. Set for
/// the call and restored after, unless <see cref="Settings.EnvironmentSettings.TorchThreads"/> fixes the count or the kernels are pinned
/// (<see cref="Runtime.ReproducibleKernels"/>: the same bits on every machine need the same thread count).
/// </summary>
internal static class InferenceThreads
{
    /// <summary>Below this hidden size a layer's matmuls are too small to share out; threads would only wait on each other.</summary>
    private const int MinimumHiddenSize = 512;

    public static T Run<T>(LlamaConfig config, ComputeContext context, Func<T> work)
    {
        if (config.HiddenSize < MinimumHiddenSize || context.Device.type != TorchSharp.DeviceType.CPU
            || Runtime.ReproducibleKernels.Pinned
            || Settings.EnvironmentSettings.TorchThreads is not null)
            return work();
        int previous = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
        try { return work(); }
        finally { TorchSharp.torch.set_num_threads(previous); }
    }
}
