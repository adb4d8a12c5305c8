using System.Runtime.InteropServices;

namespace ChatVector.Core.Runtime;

/// <summary>
/// Pins every run-time CPU dispatch inside libtorch to its portable level, so the same float work gives the
/// same bits on any x86-64 CPU (with or without AVX2 or AVX-512). For training runs that must be reproducible
/// across machines (the toy and tiny trainers) and for evaluations a user wants comparable across servers
/// (<see cref="EnvVar"/>); CPU merges never need it: their arithmetic is element by element, one IEEE rounding per
/// operation (the module's own loops, or libtorch's element-wise ops, which agree on every kernel level), with no
/// reduction and no fused operation left to libtorch's choice (the plain add's r·v + s is fused in the module's code, and a LoRA
/// adapter's B·A is summed in a fixed order by <see cref="Kernels.LowRankProduct"/>, not by libtorch's BLAS).
/// </summary>
/// <remarks>
/// Three dispatchers live in TorchSharp's libtorch_cpu, each choosing code by the CPU it finds:
/// ATen's own kernels (<c>ATEN_CPU_CAPABILITY</c>: default, avx2, avx512), Intel MKL's BLAS, statically linked
/// (<c>MKL_CBWR</c>: COMPATIBLE is its SSE2 path on any x86-64; STRICT also removes the thread-count
/// dependence of its reductions), and oneDNN (<c>ONEDNN_MAX_CPU_ISA</c>). Each reads its variable once, at its
/// first use, through the C library's <c>getenv</c>, so the values must be in the native environment before
/// libtorch computes anything. .NET keeps its own copy of the environment on Unix (its
/// <c>SetEnvironmentVariable</c> never reaches <c>getenv</c>), hence <c>setenv</c> here, and on Windows the
/// C runtime's <c>_putenv_s</c> (the UCRT reads its own copy, not the Win32 block).
/// The thread count also changes how ATen splits reductions; callers fix it (<see cref="Threads"/>).
/// </remarks>
public static class ReproducibleKernels
{
    /// <summary>When "1", the module pins the kernels before it loads libtorch (<see cref="TorchRuntime.EnsureLoaded"/>).</summary>
    public const string EnvVar = Core.Settings.EnvironmentSettings.ReproducibleKernelsVariable;

    /// <summary>The intra-op thread count a reproducible run uses: ATen splits a reduction by thread count.</summary>
    public const int Threads = 1;

    /// <summary>The native variables and the portable level each is pinned to.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Settings { get; } =
    [
        new("ATEN_CPU_CAPABILITY", "default"),
        new("MKL_CBWR", "COMPATIBLE,STRICT"),
        new("ONEDNN_MAX_CPU_ISA", "SSE41"),
        new("DNNL_MAX_CPU_ISA", "SSE41"),
    ];

    /// <summary>True once <see cref="Pin"/> has run in this process.</summary>
    public static bool Pinned { get; private set; }

    /// <summary>True when <see cref="EnvVar"/> asks the module for pinned kernels.</summary>
    public static bool RequestedByEnvironment => Core.Settings.EnvironmentSettings.ReproducibleKernels;

    /// <summary>Puts <see cref="Settings"/> into the native environment, overriding what the caller's environment
    /// says. Must run before libtorch computes anything; throws if libtorch is already loaded in this process,
    /// because its dispatchers would already have chosen (a silent no-op would be a wrong promise).</summary>
    public static void Pin()
    {
        if (Pinned) return;
        if (TorchRuntime.IsLoaded)
            throw new InvalidOperationException(
                "libtorch is already loaded in this process, so its kernels can no longer be pinned. " +
                $"Set {EnvVar}=1 before the first compute (before Import-Module, for the module).");
        foreach (var (name, value) in Settings)
        {
            SetNative(name, value);
            Environment.SetEnvironmentVariable(name, value); // child processes and managed readers see it too
        }
        Pinned = true;
    }

    /// <summary>The settings as one line, for logs and reports.</summary>
    public static string Describe() => string.Join(", ", Settings.Select(s => $"{s.Key}={s.Value}")) + $", {Threads} thread";

    private static void SetNative(string name, string value)
    {
        int status = OperatingSystem.IsWindows() ? UcrtPutEnv(name, value) : LibcSetEnv(name, value, 1);
        if (status != 0)
            throw new InvalidOperationException($"Could not set {name}={value} in the process environment (error {Marshal.GetLastPInvokeError()}).");
    }

    [DllImport("libc", EntryPoint = "setenv", SetLastError = true)]
    private static extern int LibcSetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("ucrtbase", EntryPoint = "_putenv_s", CharSet = CharSet.Ansi, SetLastError = true)]
    private static extern int UcrtPutEnv(string name, string value);
}
