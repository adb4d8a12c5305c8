using ChatVector.Core.Runtime;
using ChatVector.Core.Settings;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>
/// Where and under which cancellation chunks are computed. The device is resolved on first use, so
/// work that only copies stored bytes (re-sharding, subsetting) never loads libtorch.
/// </summary>
public sealed class ComputeContext
{
    private readonly Lazy<torch.Device> _device;

    /// <param name="deviceSpec">cpu (default), cuda or cuda:N.</param>
    public ComputeContext(string? deviceSpec, CancellationToken cancellation)
    {
        DeviceSpec = deviceSpec ?? "cpu";
        Cancellation = cancellation;
        _device = new Lazy<torch.Device>(() =>
        {
            TorchRuntime.EnsureLoaded();
            return TorchRuntime.ParseDevice(DeviceSpec);
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string DeviceSpec { get; }
    public CancellationToken Cancellation { get; }

    /// <summary>
    /// Threads a whole-tensor pass may run on at once (a trim's selection, before its tensor's first chunk): as many
    /// as stream chunks, by default (<see cref="EnvironmentSettings.Parallelism"/>).
    /// </summary>
    public int Parallelism { get; init; } = EnvironmentSettings.Parallelism;
    /// <summary>Loads libtorch (once) and checks the device the first time it is asked for.</summary>
    public torch.Device Device => _device.Value;

    public static ComputeContext Cpu(CancellationToken cancellation = default) => new("cpu", cancellation);
}
