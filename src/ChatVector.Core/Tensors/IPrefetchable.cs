namespace ChatVector.Core.Tensors;

/// <summary>
/// A source whose stored bytes can be asked for ahead of use: the chunk stream calls <see cref="Prefetch"/> on the
/// next tensors while the current one is computed, so reading them from disk overlaps the work. A hint: cheap,
/// never failing, and a source works the same without it.
/// </summary>
public interface IPrefetchable
{
    /// <summary>Starts reading, in the background, every stored byte this source's values come from.</summary>
    void Prefetch();
}

/// <summary>Prefetches any of several sources that can be.</summary>
public static class Prefetching
{
    public static void Prefetch(IEnumerable<ITensorSource> sources)
    {
        foreach (var source in sources)
            if (source is IPrefetchable prefetchable) prefetchable.Prefetch();
    }
}
