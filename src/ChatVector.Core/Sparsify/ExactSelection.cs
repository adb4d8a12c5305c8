namespace ChatVector.Core.Sparsify;

/// <summary>
/// Finds the elements at given positions of the magnitude order (<see cref="OrderPoint"/>) exactly, in a
/// few sequential passes over a tensor's chunks and without holding the tensor: a radix select over the
/// 31-bit magnitude keys (pass 1: histogram of the high 15 bits; pass 2: of the low 16 bits inside the
/// chosen bucket), then pass 3 walks the elements equal to the found key in flat-index order to the wanted
/// one. Memory is one chunk of keys plus the histograms; the answer does not depend on the chunk size.
/// </summary>
public static class ExactSelection
{
    private const int HighBits = 15, LowBits = 16;

    /// <param name="elementCount">n, the tensor's element count.</param>
    /// <param name="positions">0-based positions in [0, n) of the order.</param>
    /// <param name="readKeys">The keys of elements [start, start + count).</param>
    /// <param name="chunkElements">How many elements one read covers.</param>
    public static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, Func<long, int, uint[]> readKeys, int chunkElements,
        CancellationToken cancellation = default)
    {
        foreach (var position in positions)
            if (position < 0 || position >= elementCount) throw new ArgumentOutOfRangeException(nameof(positions), position, $"order position outside [0, {elementCount})");
        if (positions.Count == 0) return [];

        // Pass 1: which high bucket holds each position, and how many elements lie below that bucket.
        var high = new long[1 << HighBits];
        ForEachChunk(elementCount, chunkElements, readKeys, cancellation, (_, keys) =>
        {
            foreach (var key in keys) high[key >> LowBits]++;
        });
        var bucket = new uint[positions.Count];
        var rest = new long[positions.Count]; // the position's rank among the elements of its bucket, then of its key
        for (int t = 0; t < positions.Count; t++) (bucket[t], rest[t]) = Locate(high, positions[t]);

        // Pass 2: inside each wanted bucket, the exact key.
        var buckets = bucket.Distinct().ToArray();
        var low = buckets.ToDictionary(b => b, _ => new long[1 << LowBits]);
        ForEachChunk(elementCount, chunkElements, readKeys, cancellation, (_, keys) =>
        {
            foreach (var key in keys)
                if (low.TryGetValue(key >> LowBits, out var histogram)) histogram[key & ((1u << LowBits) - 1)]++;
        });
        var exactKey = new uint[positions.Count];
        for (int t = 0; t < positions.Count; t++)
        {
            var (lowBits, tieRank) = Locate(low[bucket[t]], rest[t]);
            exactKey[t] = (bucket[t] << LowBits) | lowBits;
            rest[t] = tieRank;
        }

        // Pass 3: among the elements equal to the key, in flat-index order, the tieRank-th one.
        var index = new long[positions.Count];
        Array.Fill(index, -1);
        var seen = new long[positions.Count];
        ForEachChunk(elementCount, chunkElements, readKeys, cancellation, (start, keys) =>
        {
            for (int t = 0; t < positions.Count; t++)
            {
                if (index[t] >= 0) continue;
                for (int i = 0; i < keys.Length; i++)
                    if (keys[i] == exactKey[t] && seen[t]++ == rest[t]) { index[t] = start + i; break; }
            }
        }, stopWhen: () => index.All(i => i >= 0));

        var points = new OrderPoint[positions.Count];
        for (int t = 0; t < positions.Count; t++)
        {
            if (index[t] < 0) throw new InvalidOperationException("the tensor's values changed between selection passes");
            points[t] = new OrderPoint(exactKey[t], index[t]);
        }
        return points;
    }

    /// <summary>The bucket holding 0-based rank <paramref name="rank"/> of a histogram, and the rank within it.</summary>
    private static (uint Bucket, long RankWithin) Locate(long[] histogram, long rank)
    {
        long below = 0;
        for (uint b = 0; b < histogram.Length; b++)
        {
            if (rank < below + histogram[b]) return (b, rank - below);
            below += histogram[b];
        }
        throw new InvalidOperationException("the tensor's values changed between selection passes");
    }

    private static void ForEachChunk(long elementCount, int chunkElements, Func<long, int, uint[]> readKeys, CancellationToken cancellation,
        Action<long, uint[]> visit, Func<bool>? stopWhen = null)
    {
        for (long start = 0; start < elementCount; start += chunkElements)
        {
            cancellation.ThrowIfCancellationRequested();
            var keys = readKeys(start, (int)Math.Min(chunkElements, elementCount - start));
            visit(start, keys);
            if (stopWhen?.Invoke() == true) return;
        }
    }
}
