using System.Runtime.InteropServices;

namespace ChatVector.Core.Runtime;

/// <summary>
/// glibc gives every thread that allocates its own malloc arena and keeps freed chunk-sized blocks in
/// each; with streaming workers allocating libtorch temporaries, resident memory then grows with the
/// number of threads that ever ran a chunk. Capping arenas keeps peak RSS flat however many threads have run chunks.
/// MALLOC_ARENA_MAX in the environment, when set, is left to win.
/// </summary>
internal static class NativeMemoryTuning
{
    private const int MallocArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h
    private const int MallocMmapThreshold = -3; // M_MMAP_THRESHOLD
    private const int LargeBlockBytes = 4 << 20;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static bool _canTrim = OperatingSystem.IsLinux();

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try { MallOpt(MallocArenaMax, 2); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // not glibc (musl): nothing to tune
    }

    /// <summary>
    /// For the forward pass, which reads every layer's weights again for each generated token: blocks of 4 MB
    /// and more are mapped and unmapped on their own, so a freed weight goes back to the system at once. With
    /// glibc's default (a threshold that rises to 32 MB as blocks are freed), the freed weights stayed in the
    /// heap and generation's peak RSS grew with the model; with this it stays about one layer. Process-wide, and
    /// harmless to merges, whose chunks are 1 MB. MALLOC_MMAP_THRESHOLD_ or
    /// GLIBC_TUNABLES in the environment, when set, are left to win.
    /// </summary>
    public static void ReturnLargeBlocksAtOnce()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is not null) return;
        try { MallOpt(MallocMmapThreshold, LargeBlockBytes); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>
    /// Gives the pages of freed blocks back to the system, wherever they lie in glibc's heaps (it returns only a
    /// heap's free top by itself). Blocks under the mmap threshold (activations, small weights) otherwise stay
    /// resident once freed, fragmented between live ones, and the forward pass's peak grew with every layer. Costs one
    /// walk of the free lists: called once per layer, not per operation.
    /// </summary>
    public static void ReleaseFreedMemory()
    {
        if (!_canTrim) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _canTrim = false; } // not glibc
    }
}
