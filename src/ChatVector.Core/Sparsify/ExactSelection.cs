using ChatVector.Core.Kernels;
namespace ChatVector.Core.Sparsify;

/// <summary>
/// Finds the elements at given positions of the magnitude order (<see cref="OrderPoint"/>) exactly, in a
/// few sequential passes over a tensor's chunks and without holding the tensor: a radix select over the
/// 31-bit magnitude keys (pass 1: histogram of the high 15 bits; pass 2: of the low 16 bits inside the
/// chosen bucket, skipped when no key has low bits, as in a bf16 model's chat vector), then pass 3 walks the
/// elements equal to the found key in flat-index order to the wanted one. A sample narrows pass 1 to a band of
/// buckets counted in SIMD registers: from the kept keys, or, for a tensor too large to keep them, from every 16th
/// chunk, whose band pass also counts the found bucket per chunk so that pass 3 reads one chunk. Memory is one chunk of keys plus the histograms per thread; the answer depends neither on the chunk
/// size nor on the threads (histograms are sums; pass 3 counts per chunk, then walks the counts in order).
/// Here: the entry points and the outline of the passes. Pass 1 with its counting loops is in
/// ExactSelection.HighBuckets.cs, pass 2 with its own in ExactSelection.LowBits.cs; <see cref="SelectionChunks"/> runs a
/// pass over the chunks on the threads and walks them for pass 3; <see cref="KeyCache"/> is the memory that keeps the
/// keys between passes.
/// </summary>
public static partial class ExactSelection
{
    private const int HighBits = 15, LowBits = 16;

    /// <summary>Fills <c>keys</c> with the keys of elements [start, start + keys.Length); called from several threads at once.</summary>
    public delegate void KeyReader(long start, Span<uint> keys);

    /// <param name="elementCount">n, the tensor's element count.</param>
    /// <param name="positions">0-based positions in [0, n) of the order.</param>
    /// <param name="readKeys">The keys of elements [start, start + count).</param>
    /// <param name="chunkElements">How many elements one read covers.</param>
    public static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, Func<long, int, uint[]> readKeys, int chunkElements,
        CancellationToken cancellation = default) =>
        Select(elementCount, positions, (start, keys) => readKeys(start, keys.Length).AsSpan().CopyTo(keys), chunkElements, parallelism: 1, cancellation);

    /// <param name="parallelism">Threads reading chunks at once (the caller's thread is one of them): the caller's to choose, as it knows what else runs.</param>
    public static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, KeyReader readKeys, int chunkElements, int parallelism,
        CancellationToken cancellation = default)
    {
        CheckPositions(elementCount, positions);
        if (positions.Count == 0) return [];
        return WithKeyCache(elementCount, cancellation, cache => Select(elementCount, positions, readKeys, chunkElements, parallelism, cache, cancellation));
    }

    private static void CheckPositions(long elementCount, IReadOnlyList<long> positions)
    {
        foreach (var position in positions)
            if (position < 0 || position >= elementCount) throw new ArgumentOutOfRangeException(nameof(positions), position, $"order position outside [0, {elementCount})");
    }

    /// <summary>
    /// Runs a selection with the shared key memory when it is free (or frees up soon) and the tensor fits, else without
    /// (every pass reads); a selection inside another's reads does not wait for it (see <see cref="KeyCache"/>).
    /// </summary>
    private static T WithKeyCache<T>(long elementCount, CancellationToken cancellation, Func<uint[]?, T> select)
    {
        var cache = KeyCache.Rent(elementCount, mayWait: !KeyCache.Selecting, cancellation);
        bool wasSelecting = KeyCache.Selecting;
        KeyCache.Selecting = true;
        try
        {
            return select(cache);
        }
        finally
        {
            KeyCache.Selecting = wasSelecting;
            if (cache is not null) KeyCache.Return(cache);
        }
    }

    /// <param name="keyCache">Room for every key, kept between passes, or null (every pass reads).</param>
    internal static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, KeyReader readKeys, int chunkElements, int parallelism,
        uint[]? keyCache, CancellationToken cancellation) =>
        Select(elementCount, OrderPositions.Fixed(positions), readKeys, chunkElements, parallelism, keyCache, cancellation);

    /// <summary>
    /// The order point where the largest k = ⌊<paramref name="share"/> × (nonzero keys)⌋ keys begin (position n − k, ties
    /// cut by index as in every selection), or <see cref="OrderPoint.End"/> when k is 0: a top-k over a share of the
    /// nonzero values. The zero keys are counted by pass 1 itself, not by a pass of their own before it.
    /// </summary>
    /// <param name="share">In [0, 1].</param>
    public static OrderPoint SelectTopShareOfNonzero(long elementCount, double share, KeyReader readKeys, int chunkElements, int parallelism,
        CancellationToken cancellation = default)
    {
        if (share is < 0 or > 1 || double.IsNaN(share)) throw new ArgumentOutOfRangeException(nameof(share), share, "a share in [0, 1]");
        if (elementCount == 0) return OrderPoint.End;
        return WithKeyCache(elementCount, cancellation, cache => SelectTopShareOfNonzero(elementCount, share, readKeys, chunkElements, parallelism, cache, cancellation));
    }

    /// <param name="keyCache">Room for every key, kept between passes, or null (every pass reads).</param>
    internal static OrderPoint SelectTopShareOfNonzero(long elementCount, double share, KeyReader readKeys, int chunkElements, int parallelism,
        uint[]? keyCache, CancellationToken cancellation)
    {
        var positions = OrderPositions.OfZeros(zeros => elementCount - (long)(share * (elementCount - zeros)));
        return Select(elementCount, positions, readKeys, chunkElements, parallelism, keyCache, cancellation)[0];
    }

    /// <summary>
    /// Pass 1's histogram, filled by the caller on a pass over the keys it makes anyway (arcee_fusion computes every
    /// importance in its divergence pass): <see cref="Select(long, IReadOnlyList{long}, KeyHistogram, KeyReader, int, int, CancellationToken)"/>
    /// then starts at pass 2. Counts are sums, so the order in which keys are added does not matter.
    /// </summary>
    public sealed class KeyHistogram
    {
        internal readonly long[] Counts = new long[FullHistogramSize];

        /// <summary>Counts <paramref name="keys"/> (from one thread at a time).</summary>
        public void Add(ReadOnlySpan<uint> keys) => CountHighBits(keys, Counts);

        /// <summary>How many keys were added.</summary>
        public long Total
        {
            get
            {
                long total = 0;
                for (int b = 0; b < 1 << HighBits; b++) total += Counts[b];
                return total;
            }
        }
    }

    /// <summary>
    /// The keys at <paramref name="positions"/> of the order, pass 1's histogram already counted over every key; which
    /// of several equal keys stands at a position is not looked for (pass 3, up to a pass over the tensor per position):
    /// for order statistics, such as quantiles, whose value is all the caller needs.
    /// </summary>
    public static uint[] SelectKeys(long elementCount, IReadOnlyList<long> positions, KeyHistogram counted, KeyReader readKeys, int chunkElements, int parallelism,
        CancellationToken cancellation = default)
    {
        CheckPositions(elementCount, positions);
        if (counted.Total != elementCount) throw new ArgumentException($"the histogram counts {counted.Total} keys of {elementCount}", nameof(counted));
        if (positions.Count == 0) return [];
        return WithKeyCache(elementCount, cancellation, cache =>
            Select(OrderPositions.Fixed(positions), new SelectionChunks(elementCount, chunkElements, readKeys, Math.Max(1, parallelism), cancellation, cache), counted.Counts,
                elementsWanted: false)).Select(point => point.Key).ToArray();
    }

    private static OrderPoint[] Select(long elementCount, OrderPositions positions, KeyReader readKeys, int chunkElements, int parallelism,
        uint[]? keyCache, CancellationToken cancellation)
    {
        if (keyCache is not null && keyCache.LongLength < elementCount) throw new ArgumentException("the key cache is smaller than the tensor", nameof(keyCache));
        return Select(positions, new SelectionChunks(elementCount, chunkElements, readKeys, Math.Max(1, parallelism), cancellation, keyCache));
    }

    /// <summary>
    /// The positions wanted: fixed, or one found from the count of zero keys, which pass 1 takes on its way (a position
    /// at or past the end stands for <see cref="OrderPoint.End"/>).
    /// </summary>
    private sealed class OrderPositions
    {
        private readonly long[]? _fixed;
        private readonly Func<long, long>? _ofZeros;

        private OrderPositions(long[]? @fixed, Func<long, long>? ofZeros) => (_fixed, _ofZeros) = (@fixed, ofZeros);

        public static OrderPositions Fixed(IReadOnlyList<long> positions) => new([.. positions], null);
        public static OrderPositions OfZeros(Func<long, long> position) => new(null, position);

        public int Count => _fixed?.Length ?? 1;
        public bool DependOnZeros => _ofZeros is not null;

        /// <summary>The positions when <paramref name="zeros"/> keys are zero.</summary>
        public long[] For(long zeros) => _fixed ?? [_ofZeros!(zeros)];
    }

    /// <param name="counted">Pass 1's full histogram (<see cref="CountHighBits"/>'s) when the caller counted it, else null.</param>
    /// <param name="elementsWanted">Whether to find the element at each position among equal keys (pass 3); without, each point's index is -1.</param>
    private static OrderPoint[] Select(OrderPositions positions, SelectionChunks chunks, long[]? counted = null, bool elementsWanted = true)
    {
        // Pass 1: which high bucket holds each position, and how many elements lie below that bucket.
        var exact = new long[positions.Count];
        var bucket = new uint[positions.Count];
        var rest = new long[positions.Count]; // the position's rank among the elements of its bucket, then of its key
        var inBucket = new long[positions.Count];
        var exactKey = new uint[positions.Count];
        var equalCount = new long[positions.Count];
        var bucketPerChunk = new long[]?[positions.Count];
        bool roundKeysOnly = counted is null
            ? LocateHighBuckets(positions, chunks, exact, bucket, rest, inBucket, bucketPerChunk)
            : LocateInHistogram(positions, chunks.ElementCount, counted, exact, bucket, rest, inBucket);
        if (positions.DependOnZeros && exact[0] >= chunks.ElementCount) return [OrderPoint.End];
        if (roundKeysOnly)
        {
            // No key has low bits: a bucket holds one key, and pass 2 has nothing to tell (see HasLowBits).
            for (int t = 0; t < positions.Count; t++) (exactKey[t], equalCount[t]) = (bucket[t] << LowBits, inBucket[t]);
        }
        else
            LocateLowBits(chunks, bucket, rest, exactKey, equalCount);

        // Pass 3: among the elements equal to the key, in flat-index order, the tieRank-th one. Where pass 1 counted
        // the bucket per chunk and the bucket is the key, only the chunk holding that element is read.
        var points = new OrderPoint[positions.Count];
        for (int t = 0; t < positions.Count; t++)
            points[t] = new OrderPoint(exactKey[t], !elementsWanted ? -1 : roundKeysOnly && bucketPerChunk[t] is { } perChunk
                ? chunks.NthEqualCounted(exactKey[t], rest[t], perChunk)
                : chunks.NthEqual(exactKey[t], rest[t], equalCount[t]));
        return points;
    }

    private const uint LowMask = (1u << LowBits) - 1;

    /// <summary>
    /// A key with low bits (any of the 16 below a bucket's): pass 1 notes whether it saw one, at the cost of an OR per
    /// key. A difference of two bf16 values a few steps apart has at most 8 significant bits, so no key of a bf16 model's
    /// chat vector has low bits: each bucket then holds one key, and pass 2, a whole pass over the vector (on tensors
    /// over the kept keys, a reading of both models' bytes), is skipped.
    /// </summary>
    private static bool HasLowBits(uint orOfKeys) => (orOfKeys & LowMask) != 0;

    /// <summary>The bucket of histogram[offset, offset + length) holding 0-based rank <paramref name="rank"/>, and the rank within it.</summary>
    private static (uint Bucket, long RankWithin) Locate(long[] histogram, int offset, int length, long rank) =>
        TryLocate(histogram, offset, length, rank, out uint bucket, out long rankWithin)
            ? (bucket, rankWithin)
            : throw new InvalidOperationException("the tensor's values changed between selection passes");

    /// <summary>As <see cref="Locate"/>; false when the histogram counts <paramref name="rank"/> elements or fewer.</summary>
    private static bool TryLocate(long[] histogram, int offset, int length, long rank, out uint bucket, out long rankWithin)
    {
        long below = 0;
        for (int b = 0; b < length; b++)
        {
            long count = histogram[offset + b];
            if (rank < below + count)
            {
                (bucket, rankWithin) = ((uint)b, rank - below);
                return true;
            }
            below += count;
        }
        (bucket, rankWithin) = (0, 0);
        return false;
    }
}
