namespace ChatVector.PowerShell.Output;

/// <summary>Output of Get-ChatVectorRuntime. Lives in the cmdlet assembly (not Core) because
/// PowerShell only sees types from the default load context; see Loading/ModuleInitializer.</summary>
public sealed class RuntimeInfo
{
    public string TorchSharpVersion { get; init; } = "";
    public string LibTorchVersion { get; init; } = "";
    public string NativeDirectory { get; init; } = "";
    public string Device { get; init; } = "";
    public bool CudaAvailable { get; init; }
    public int CudaDeviceCount { get; init; }
    public int Threads { get; init; }
    /// <summary>The self-test's result: (ones(3,3,bf16) as float32 * 2.5).sum(); 22.5 when libtorch works.</summary>
    public float SelfTestValue { get; init; }
    /// <summary>"Passed" or "Failed (got X, expected 22.5)".</summary>
    public string SelfTest { get; init; } = "";
    public bool SelfTestPassed { get; init; }
    /// <summary>"Release", or "Debug" for an unoptimized build (merges several times slower).</summary>
    public string Build { get; init; } = "";
    /// <summary>True when libtorch's CPU kernels were pinned to their portable level (CHATVECTOR_REPRODUCIBLE_KERNELS=1):
    /// forward passes then give the same bits on any x86-64 CPU.</summary>
    public bool ReproducibleKernels { get; init; }
}
