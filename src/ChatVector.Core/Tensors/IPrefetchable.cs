using ChatVector.Core.IO;

namespace ChatVector.Core.Tensors;

/// <summary>
/// A source whose values come from stored tensors it can name. The chunk stream uses them to ask for the next
/// tensors' bytes ahead of use (so reading them from disk overlaps the work) and, when the inputs are larger than
/// the memory that could cache them, to let a finished tensor's pages go first (drop-behind). Hints only: a source
/// works the same without them.
/// </summary>
public interface IPrefetchable
{
    /// <summary>The stored tensors this source's values are read from.</summary>
    IEnumerable<StoredTensorSource> StoredInputs();

    /// <summary>
    /// Whether computing this source reads some stored input more than once (a trim's selection passes, a base that
    /// is both the model and each vector's base): the chunk stream then holds its inputs in memory
    /// (<see cref="ResidentTensors"/>) rather than reading them from the file again.
    /// </summary>
    bool RereadsInputs => false;
}

/// <summary>Page-cache hints over the stored inputs of several sources.</summary>
public static class Prefetching
{
    /// <summary>The distinct stored tensors behind <paramref name="sources"/> (a stored source is its own input).</summary>
    public static IEnumerable<StoredTensorSource> StoredInputs(IEnumerable<ITensorSource> sources) =>
        sources.SelectMany(source => source is IPrefetchable p ? p.StoredInputs() : []).DistinctBy(s => (s.Stored.File.Path, s.Name));

    /// <summary>
    /// Whether the parts of one computation read a stored input more than once: one of them does so itself, or two of
    /// them read the same stored tensor.
    /// </summary>
    public static bool RereadsInputs(IEnumerable<ITensorSource> parts)
    {
        var seen = new HashSet<(string Path, string Name)>();
        foreach (var part in parts)
        {
            if (part is not IPrefetchable prefetchable) continue;
            if (prefetchable.RereadsInputs) return true;
            foreach (var stored in prefetchable.StoredInputs())
                if (!seen.Add((stored.Stored.File.Path, stored.Name))) return true;
        }
        return false;
    }

    /// <summary>
    /// Holds the stored inputs of <paramref name="source"/> in memory when it reads them more than once and they fit
    /// the budget (<see cref="ResidentTensors"/>); null when it holds nothing.
    /// </summary>
    /// <param name="complete">False when some of them did not fit the budget (they may once other holds are let go).</param>
    public static IDisposable? HoldIfReread(ITensorSource source, out bool complete, CancellationToken cancellation)
    {
        complete = true;
        return source is IPrefetchable { RereadsInputs: true }
            ? ResidentTensors.TryHold(StoredInputs([source]).Select(s => s.Stored.File.RangeToHold(s.Stored.Info)), out complete, cancellation)
            : null;
    }

    /// <summary>Starts reading, in the background, every stored byte the sources' values come from.</summary>
    public static void Prefetch(IEnumerable<ITensorSource> sources)
    {
        foreach (var stored in StoredInputs(sources)) PageCache.WillNeed(stored.Stored.File.RangeOf(stored.Stored.Info));
    }

    /// <summary>Tells the system those bytes will not be read again, so their cache pages are the first to go.</summary>
    public static void DropCached(IEnumerable<ITensorSource> sources)
    {
        foreach (var stored in StoredInputs(sources)) PageCache.DontNeed(stored.Stored.File.RangeOf(stored.Stored.Info));
    }

    /// <summary>
    /// Whether reading <paramref name="sources"/> should drop behind: their stored bytes exceed the memory the system
    /// reports available (<see cref="AvailableMemory"/>), so they cannot stay cached anyway, and pages the merge has
    /// finished with would only push out everything else on the server.
    /// </summary>
    public static bool ShouldDropBehind(IEnumerable<ITensorSource> sources)
    {
        if (AvailableMemory.Bytes() is not { } available) return false;
        return StoredInputs(sources).Sum(s => s.ByteLength) > available;
    }
}
