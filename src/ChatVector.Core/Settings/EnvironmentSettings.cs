using System.Globalization;

namespace ChatVector.Core.Settings;

/// <summary>
/// Every <c>CHATVECTOR_*</c> environment variable the module reads, each a typed property, all parsed one way: a number
/// is read with the invariant culture (a setting in a scheduled task means the same on a server whatever its culture:
/// under ar-SA, "+4" is not a number) and clamped to its range; a switch is on for "1" or "true" in any case; an unset
/// or unreadable value is the default. Tuning settings are read once, at the first use of any of them, so a run cannot
/// change them halfway. A setting read only at one moment of the process (loading libtorch) or that tests set per
/// test is read when asked. README's "Settings" and help/about_ChatVector.md describe them for users.
/// </summary>
public static class EnvironmentSettings
{
    public const string ChunkMegabytesVariable = "CHATVECTOR_CHUNK_MB";
    public const string ParallelismVariable = "CHATVECTOR_PARALLELISM";
    public const string TorchThreadsVariable = "CHATVECTOR_TORCH_THREADS";
    public const string ResidentMegabytesVariable = "CHATVECTOR_RESIDENT_MB";
    public const string CachedWritesVariable = "CHATVECTOR_CACHED_WRITES";
    public const string ReproducibleKernelsVariable = "CHATVECTOR_REPRODUCIBLE_KERNELS";
    public const string NativeDirectoryVariable = "CHATVECTOR_NATIVE_DIR";

    /// <summary>
    /// CHATVECTOR_CHUNK_MB: the size of a streamed chunk in MB, 1 to 1024, default 1 (larger chunks cost resident memory
    /// in libtorch temporaries and gain no speed).
    /// </summary>
    public static int ChunkMegabytes { get; } = Number(ChunkMegabytesVariable, fallback: 1, min: 1, max: 1024);

    /// <summary>
    /// CHATVECTOR_PARALLELISM: chunks read and computed at once, and the threads of a whole-tensor pass (a trim's
    /// selection), 1 to 64; default one per core, at least 2 and at most 8.
    /// </summary>
    public static int Parallelism { get; } = Number(ParallelismVariable, fallback: Math.Clamp(Environment.ProcessorCount, 2, 8), min: 1, max: 64);

    /// <summary>
    /// CHATVECTOR_TORCH_THREADS: libtorch's intra-op threads, a positive count, or null when unset (or not a positive
    /// number): merges then run libtorch on one thread, their workers already using every core, and a forward pass
    /// on every core for its duration. When set, it fixes the count for both.
    /// </summary>
    public static int? TorchThreads { get; } = Number(TorchThreadsVariable) is > 0 and var threads ? threads : null;

    /// <summary>
    /// CHATVECTOR_RESIDENT_MB: memory in MB for holding a computed tensor's stored inputs while they are read more than
    /// once, 0 to 1048576, default 144 (the held inputs' budget; 0 holds nothing).
    /// </summary>
    public static int ResidentMegabytes { get; } = Number(ResidentMegabytesVariable, fallback: 144, min: 0, max: 1 << 20);

    /// <summary>
    /// CHATVECTOR_CACHED_WRITES: on, outputs are written through the page cache instead of with O_DIRECT. Read for
    /// every file written, so a test can write both ways in one process.
    /// </summary>
    public static bool CachedWrites => Switch(CachedWritesVariable);

    /// <summary>
    /// CHATVECTOR_REPRODUCIBLE_KERNELS: on, libtorch's CPU kernels are pinned to their portable level before its natives
    /// load (<see cref="Runtime.ReproducibleKernels"/>). Read when libtorch is loaded, the only moment it can act.
    /// </summary>
    public static bool ReproducibleKernels => Switch(ReproducibleKernelsVariable);

    /// <summary>
    /// CHATVECTOR_NATIVE_DIR: the folder to load the libtorch natives from instead of the module's own, or null. Read
    /// when libtorch is loaded: test processes set it just before.
    /// </summary>
    public static string? NativeDirectory => Environment.GetEnvironmentVariable(NativeDirectoryVariable) is { } dir && !string.IsNullOrWhiteSpace(dir) ? dir : null;

    /// <summary>The variable as an integer in [<paramref name="min"/>, <paramref name="max"/>] (clamped), or <paramref name="fallback"/> when unset or not one.</summary>
    internal static int Number(string name, int fallback, int min, int max) => Number(name) is { } value ? Math.Clamp(value, min, max) : fallback;

    /// <summary>The variable as an integer, or null when it is unset or not one.</summary>
    internal static int? Number(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>Whether the variable is on: "1" or "true" in any case, spaces around ignored.</summary>
    internal static bool Switch(string name) =>
        Environment.GetEnvironmentVariable(name)?.Trim() is { } value && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));
}
