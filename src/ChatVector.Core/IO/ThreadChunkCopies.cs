namespace ChatVector.Core.IO;

/// <summary>
/// Stored bytes read once for the chunk the current thread is computing, lent to every source of that chunk that reads
/// them. A merge reads one input through several sources (TIES reads its base as the model and as each vector's base),
/// and an input too large to be held (<see cref="ResidentTensors"/>: a 7B model's MLP tensors) was copied out of the
/// page cache once per source and chunk. Thread-local: a chunk is computed on one thread, and a read on another
/// thread simply misses and goes to the file. Keyed like the held copies (the file as opened), so a changed file is
/// never served from an old copy.
/// </summary>
internal static class ThreadChunkCopies
{
    [ThreadStatic] private static List<Copy>? t_copies;

    /// <summary>Bytes [Offset, Offset + Length) of the range, in a scratch array of this thread.</summary>
    private sealed record Copy(FileRange Range, long Offset, int Length, byte[] Bytes);

    /// <summary>Lends <paramref name="bytes"/> (the range's bytes from <paramref name="offsetInRange"/>) to this thread's readers until <see cref="ClearFrom"/>.</summary>
    public static void Add(FileRange range, long offsetInRange, int length, byte[] bytes) =>
        (t_copies ??= []).Add(new Copy(range, offsetInRange, length, bytes));

    /// <summary>How many copies this thread lends now: a scope's mark, so that nested scopes end only their own.</summary>
    public static int Count => t_copies?.Count ?? 0;

    /// <summary>Ends the loans of the copies added since <paramref name="mark"/> (<see cref="Count"/> then) and gives their arrays back to <paramref name="giveBack"/>.</summary>
    public static void ClearFrom(int mark, Action<byte[]> giveBack)
    {
        if (t_copies is not { } copies) return;
        for (int i = copies.Count - 1; i >= mark; i--)
        {
            giveBack(copies[i].Bytes);
            copies.RemoveAt(i);
        }
    }

    /// <summary>Whether a copy of this thread covers bytes [offset, offset + length) of the range.</summary>
    public static bool Covers(FileRange range, long offsetInRange, int length) => TryLend(range, offsetInRange, length, out _);

    /// <summary>The bytes [offset, offset + length) of the range when a copy of this thread covers them.</summary>
    public static bool TryLend(FileRange range, long offsetInRange, int length, out ReadOnlySpan<byte> bytes)
    {
        if (t_copies is { Count: > 0 } copies)
            foreach (var copy in copies)
                if (copy.Range == range && offsetInRange >= copy.Offset && offsetInRange + length <= copy.Offset + copy.Length)
                {
                    bytes = copy.Bytes.AsSpan((int)(offsetInRange - copy.Offset), length);
                    return true;
                }
        bytes = default;
        return false;
    }
}
