using ChatVector.Core.Models;

namespace ChatVector.Benchmarks;

/// <summary>Where the inputs' bytes are when a measured run starts.</summary>
internal enum PageCacheState
{
    /// <summary>As cached as memory allows: every input read just before the run (at 8 GB per model not all of them stay).</summary>
    Warm,
    /// <summary>None cached: every input's pages let go just before the run, so the run reads them all from disk.</summary>
    Cold,
}

/// <summary>Puts the trio's inputs in the same page-cache state before every measured run.</summary>
internal static class PageCache
{
    public static PageCacheState Parse(string name) => name.ToLowerInvariant() switch
    {
        "warm" => PageCacheState.Warm,
        "cold" => PageCacheState.Cold,
        _ => throw new ArgumentException($"unknown cache state '{name}' (warm, cold)"),
    };

    public static string Describe(PageCacheState state) => state == PageCacheState.Warm
        ? "with the inputs read just before it (--cache warm)"
        : "with the inputs dropped from the page cache (--cache cold)";

    public static void Prepare(string dir, PageCacheState state)
    {
        foreach (var model in Inputs(dir))
        {
            foreach (var tensor in model.Tensors)
            {
                // The Core's own page-cache hint (posix_fadvise DONTNEED): no root needed, unlike drop_caches, and only these files.
                if (state == PageCacheState.Cold) Core.IO.PageCache.DontNeed(tensor.File.RangeOf(tensor.Info));
                else ReadAll(tensor, Scratch);
            }
        }
    }

    /// <summary>The trio's models and, once the lora method has written it, the adapter's weights file.</summary>
    private static IEnumerable<StoredModel> Inputs(string dir)
    {
        foreach (var name in TrioGenerator.Roles) yield return StoredModel.Open(Path.Combine(dir, name));
        var adapterWeights = Path.Combine(LoraBenchAdapter.PathIn(dir), Core.Lora.LoraAdapter.WeightsFileName);
        if (File.Exists(adapterWeights)) yield return StoredModel.Open(adapterWeights);
    }

    private static readonly byte[] Scratch = new byte[4 << 20];

    /// <summary>Reads a tensor's stored bytes through <paramref name="buffer"/>, keeping none (the floor's reads, and the warm-up's).</summary>
    internal static void ReadAll(StoredTensor tensor, byte[] buffer)
    {
        for (long offset = 0; offset < tensor.Info.ByteLength; offset += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, tensor.Info.ByteLength - offset);
            tensor.File.ReadTensorBytes(tensor.Info, offset, buffer.AsSpan(0, n));
        }
    }
}
