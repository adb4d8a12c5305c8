using TorchSharp;

namespace ChatVector.Core.Runtime;

/// <summary>What libtorch looks like in this process, in plain values so callers (the cmdlet layer,
/// which must not expose TorchSharp types to PowerShell) need no TorchSharp reference.</summary>
public sealed record TorchRuntimeReport(
    string TorchSharpVersion,
    string LibTorchVersion,
    string NativeDirectory,
    string Device,
    bool CudaAvailable,
    int CudaDeviceCount,
    int Threads,
    float SelfTestValue)
{
    /// <summary>The expected value of <see cref="TorchRuntime.SelfTest"/>.</summary>
    public const float ExpectedSelfTestValue = 22.5f;

    public bool SelfTestPassed => SelfTestValue == ExpectedSelfTestValue;

    /// <summary>Loads libtorch, checks <paramref name="device"/> and runs the self-test on it.</summary>
    public static TorchRuntimeReport Collect(string? device)
    {
        var dev = TorchRuntime.ParseDevice(device); // loads libtorch and checks the device
        var cuda = torch.cuda.is_available();
        return new TorchRuntimeReport(
            TorchRuntime.TorchSharpVersion,
            torch.__version__,
            TorchRuntime.NativeDirectory ?? "",
            dev.ToString(),
            cuda,
            cuda ? torch.cuda.device_count() : 0,
            torch.get_num_threads(),
            TorchRuntime.SelfTest(dev));
    }
}
