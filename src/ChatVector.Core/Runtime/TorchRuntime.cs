using System.Reflection;
using System.Runtime.InteropServices;
using ChatVector.Core.Settings;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.Core.Runtime;

/// <summary>
/// Loads libtorch once, from a folder we choose, and answers questions about it (device, threads).
/// </summary>
/// <remarks>
/// Why not let TorchSharp load itself: its fallback copies natives out of the NuGet cache into a
/// folder beside TorchSharp.dll (writing into the module) and would pick up an unpatched
/// libLibTorchSharp.so. We preload by full path, in dependency order, and answer TorchSharp's own
/// by-name loads with the libraries we preloaded. Works both when Core lives in the module's load context
/// (natives beside TorchSharp.dll in module/bin/deps) and in a plain test process
/// (<see cref="NativeDirEnvVar"/> points at module/bin/deps).
/// </remarks>
public static class TorchRuntime
{
    /// <summary>Overrides where the natives are loaded from (a folder holding libLibTorchSharp and libtorch).</summary>
    public const string NativeDirEnvVar = EnvironmentSettings.NativeDirectoryVariable;

    private static readonly object Gate = new();
    private static readonly Dictionary<string, IntPtr> Preloaded = new(StringComparer.OrdinalIgnoreCase);
    private static volatile bool _loaded;
    private static volatile string? _nativeDirectory;

    /// <summary>The folder the natives were loaded from; null before <see cref="EnsureLoaded"/>.</summary>
    public static string? NativeDirectory => _nativeDirectory;

    /// <summary>True once the natives are in the process (from then on their CPU dispatch can no longer be pinned).</summary>
    public static bool IsLoaded => _nativeDirectory is not null;

    /// <summary>Version of the managed TorchSharp assembly in use.</summary>
    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Preloads libtorch and initialises TorchSharp. Thread-safe; does the work once.
    /// Throws <see cref="InvalidOperationException"/> saying which file failed and why.</summary>
    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (Gate)
        {
            if (_loaded) return;
            PreloadNatives();
            Touch();
            // Chunks are already computed in parallel by the streaming workers, one per core; libtorch's own
            // intra-op threads on top of them only contend, and merges get slower.
            // CHATVECTOR_TORCH_THREADS sets another balance where a server wants it.
            // Pinned kernels also pin the count: ATen splits its reductions by it.
            torch.set_num_threads(ReproducibleKernels.Pinned ? ReproducibleKernels.Threads : EnvironmentSettings.TorchThreads ?? 1);
            NativeMemoryTuning.Apply();
            _loaded = true;
        }
    }

    /// <summary>Loads the native files by full path, in dependency order, once. Does not touch
    /// TorchSharp's managed side, so it is safe to call from inside TorchSharp's own native load.</summary>
    private static void PreloadNatives()
    {
        lock (Gate)
        {
            if (_nativeDirectory is not null) return;
            if (ReproducibleKernels.RequestedByEnvironment) ReproducibleKernels.Pin();
            var natives = NativeLibraries.ForCurrentPlatform();
            var dir = FindNativeDirectory(natives);
            VisualCppRuntime.RequireOnWindows(); // before the first native, whose failure would not say what is missing
            foreach (var file in natives.FilesIn(dir))
                Preloaded[NativeLibraries.BareName(file)] = Preload(file);
            _nativeDirectory = dir;
        }
    }

    /// <summary>Runs when Core is first used: from then on TorchSharp's by-name native loads are
    /// answered with our preloaded libraries, even if some code touches torch before
    /// <see cref="EnsureLoaded"/> (otherwise TorchSharp would probe its own, unpatched copies).</summary>
#pragma warning disable CA2255 // deliberate: the resolver must be in place before any TorchSharp call
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static void InstallResolver()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // A host already set a resolver for TorchSharp; EnsureLoaded's preloads still satisfy it by soname.
        }
    }

    private static IntPtr Resolve(string name, Assembly _, DllImportSearchPath? __)
    {
        try
        {
            PreloadNatives();
        }
        catch (InvalidOperationException)
        {
            return IntPtr.Zero; // let TorchSharp report its own failure; EnsureLoaded reports ours
        }
        lock (Gate)
            return Preloaded.TryGetValue(NativeLibraries.BareName(name), out var library) ? library : IntPtr.Zero;
    }

    /// <summary>Parses "cpu" (default), "cuda" or "cuda:N" and checks the device exists here.</summary>
    public static Device ParseDevice(string? spec)
    {
        var (type, index) = DeviceSpec.Parse(spec);
        EnsureLoaded();
        if (type == DeviceType.CPU) return torch.CPU;
        if (!torch.cuda.is_available())
            throw new InvalidOperationException(
                $"CUDA requested ('{spec}') but libtorch here is CPU-only (or no CUDA driver is present). Use -Device cpu.");
        var count = torch.cuda.device_count();
        if (index >= count)
            throw new InvalidOperationException(
                $"CUDA device {index} not present: this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1}).");
        return torch.device(DeviceType.CUDA, index);
    }

    /// <summary>Proves natives load and compute: (ones(3,3,bf16) as f32 * 2.5).sum() is 22.5.</summary>
    public static float SelfTest(Device? device = null)
    {
        EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var x = torch.ones(3, 3, dtype: ScalarType.BFloat16, device: device ?? torch.CPU);
        return (x.to_type(ScalarType.Float32) * 2.5f).sum().cpu().item<float>();
    }

    private static string FindNativeDirectory(NativeLibraries natives)
    {
        if (EnvironmentSettings.NativeDirectory is { } overrideDir)
        {
            if (natives.IsComplete(overrideDir)) return Path.GetFullPath(overrideDir);
            throw new InvalidOperationException(
                $"{NativeDirEnvVar} is '{overrideDir}' but {natives.Missing(overrideDir)} is not there. " +
                "Point it at a folder holding the libtorch natives (e.g. <repo>/module/bin/deps after a build), or unset it.");
        }
        var torchDir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory;
        var candidates = new[] { torchDir, Path.Combine(torchDir, "runtimes", natives.Rid, "native") };
        foreach (var dir in candidates)
            if (natives.IsComplete(dir)) return dir;
        throw new InvalidOperationException(
            $"libtorch natives for {natives.Rid} not found: looked for {natives.Missing(torchDir)} in {string.Join(" and ", candidates)}. " +
            $"Build the module (dotnet build) so they are laid out in module/bin/deps, or set {NativeDirEnvVar}.");
    }

    internal static IntPtr Preload(string file)
    {
        try
        {
            return NativeLibrary.Load(file);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            var hint = e.Message.Contains("GLIBCXX", StringComparison.Ordinal)
                ? " This copy asks for a newer libstdc++ than the system has; the module ships a patched copy. " +
                  "Rebuild (dotnet build marks GLIBCXX_3.4.32 weak in module/bin/deps) or patch this file with " +
                  $"'dotnet ChatVector.NativePatch.dll \"{file}\" GLIBCXX_3.4.32'; check with 'readelf -V'."
                : "";
            throw new InvalidOperationException($"Cannot load libtorch native '{file}': {e.Message}{hint}", e);
        }
    }

    private static void Touch()
    {
        try
        {
            using var t = torch.zeros(1);
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or EntryPointNotFoundException)
        {
            var inner = e is TypeInitializationException { InnerException: { } i } ? i : e;
            throw new InvalidOperationException(
                $"libtorch natives loaded from '{_nativeDirectory}' but TorchSharp failed to initialise: {inner.Message}", e);
        }
    }
}
