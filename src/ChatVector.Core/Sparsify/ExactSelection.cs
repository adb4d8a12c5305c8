using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using ChatVector.Core.Tensors;
using System.Runtime.ExceptionServices;

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
/// </summary>
public static class ExactSelection
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

    /// <param name="parallelism">Threads reading chunks at once (the caller's thread is one of them).</param>
    public static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, KeyReader readKeys, int chunkElements, int parallelism,
        CancellationToken cancellation = default)
    {
        foreach (var position in positions)
            if (position < 0 || position >= elementCount) throw new ArgumentOutOfRangeException(nameof(positions), position, $"order position outside [0, {elementCount})");
        if (positions.Count == 0) return [];
        var cache = KeyCache.Rent(elementCount, mayWait: !_selecting, cancellation);
        bool wasSelecting = _selecting;
        _selecting = true;
        try
        {
            return Select(elementCount, positions, readKeys, chunkElements, parallelism, cache, cancellation);
        }
        finally
        {
            _selecting = wasSelecting;
            if (cache is not null) KeyCache.Return(cache);
        }
    }

    /// <summary>
    /// This thread works for a selection (it called one, or runs one's chunks): a selection started here is nested in
    /// another's key reads (a trim of a trimmed vector) and must not wait for the cache the outer one holds.
    /// </summary>
    [ThreadStatic] private static bool _selecting;

    /// <param name="keyCache">Room for every key, kept between passes, or null (every pass reads).</param>
    internal static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, KeyReader readKeys, int chunkElements, int parallelism,
        uint[]? keyCache, CancellationToken cancellation)
    {
        if (keyCache is not null && keyCache.LongLength < elementCount) throw new ArgumentException("the key cache is smaller than the tensor", nameof(keyCache));
        return Select(positions, new Chunks(elementCount, chunkElements, readKeys, Math.Max(1, parallelism), cancellation, keyCache));
    }

    private static OrderPoint[] Select(IReadOnlyList<long> positions, Chunks chunks)
    {
        // Pass 1: which high bucket holds each position, and how many elements lie below that bucket.
        var bucket = new uint[positions.Count];
        var rest = new long[positions.Count]; // the position's rank among the elements of its bucket, then of its key
        var inBucket = new long[positions.Count];
        var exactKey = new uint[positions.Count];
        var equalCount = new long[positions.Count];
        var bucketPerChunk = new long[]?[positions.Count];
        bool roundKeysOnly = LocateHighBuckets(positions, chunks, bucket, rest, inBucket, bucketPerChunk);
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
            points[t] = new OrderPoint(exactKey[t], roundKeysOnly && bucketPerChunk[t] is { } perChunk
                ? chunks.NthEqualCounted(exactKey[t], rest[t], perChunk)
                : chunks.NthEqual(exactKey[t], rest[t], equalCount[t]));
        return points;
    }

    /// <summary>Pass 2: inside each wanted bucket, the exact key, its count, and each position's rank among its equals (into <paramref name="rest"/>).</summary>
    private static void LocateLowBits(Chunks chunks, uint[] bucket, long[] rest, uint[] exactKey, long[] equalCount)
    {
        // One histogram holds every wanted bucket's low bits.
        var buckets = bucket.Distinct().ToArray();
        var low = chunks.Histogram(buckets.Length << LowBits, buckets.Length == 1 ? LowBitsIn(buckets[0]) : (keys, histogram) =>
        {
            foreach (var key in keys)
            {
                uint high = key >> LowBits;
                for (int slot = 0; slot < buckets.Length; slot++)
                    if (buckets[slot] == high) { histogram[(slot << LowBits) | (int)(key & LowMask)]++; break; }
            }
        });
        try
        {
            for (int t = 0; t < bucket.Length; t++)
            {
                int slot = Array.IndexOf(buckets, bucket[t]);
                var (lowBits, tieRank) = Locate(low, slot << LowBits, 1 << LowBits, rest[t]);
                exactKey[t] = (bucket[t] << LowBits) | lowBits;
                equalCount[t] = low[(slot << LowBits) | (int)lowBits];
                rest[t] = tieRank;
            }
        }
        finally { ScratchArrays<long>.Return(low); }
    }

    /// <summary>
    /// A prime stride for the sample: a row length that is a power of two never lines it up with one column (a model's
    /// outlier channels would bias it; a biased sample costs the fallback pass, never a wrong answer).
    /// </summary>
    private const int SampleStride = 17;
    /// <summary>Below this many elements the full histogram costs next to nothing.</summary>
    private const long SampleFrom = 1 << 16;
    /// <summary>Half the band's width in the sample's standard deviations (plus a few ranks for small samples).</summary>
    private const double BandSigmas = 6;

    /// <summary>
    /// Pass 1. A sample of every 17th key of each chunk (when the keys are kept in memory) or of every 16th chunk (when
    /// they are not, and one position is wanted) estimates each position's bucket, and one SIMD pass counts the keys
    /// below a band of buckets around the estimate and histograms those inside it, scalar work for the few keys in the
    /// band only: the full histogram increments a counter per key, the costliest loop of a trim. A position outside its
    /// band, and the others, take the full histogram. Either way the bucket and rank are exact counts over every key,
    /// and so is the answer to whether any key has low bits (<see cref="HasLowBits"/>).
    /// </summary>
    /// <param name="inBucket">The count of each position's bucket.</param>
    /// <param name="bucketPerChunk">Set for a position found by a band pass that read the files: its bucket's count in each chunk.</param>
    /// <returns>Whether every key's low bits are zero.</returns>
    private static bool LocateHighBuckets(IReadOnlyList<long> positions, Chunks chunks, uint[] bucket, long[] rest, long[] inBucket, long[]?[] bucketPerChunk)
    {
        var unresolved = Enumerable.Range(0, positions.Count).ToList();
        bool roundKeysOnly = true;
        bool sampleReadsFiles = !chunks.CanKeepKeys;
        // Without kept keys each band pass reads the files: worth it for one position (a trim's threshold), whose band
        // pass then replaces the full histogram; several positions (Breadcrumbs' two bounds) take the full histogram.
        if (chunks.ElementCount >= SampleFrom && (!sampleReadsFiles || positions.Count == 1 && chunks.Count >= MinChunksToSampleChunks))
        {
            var sample = sampleReadsFiles ? chunks.SampleOfChunks(SampledChunkEvery, SampleHighBits) : chunks.Histogram(1 << HighBits, SampleHighBits);
            try
            {
                long sampled = 0;
                for (int b = 0; b < 1 << HighBits; b++) sampled += sample[b];
                // Keys read a chunk at a time come in runs of rows, alike within a chunk: the sample counts as fewer draws.
                double draws = sampleReadsFiles ? Math.Min(sampled, chunks.Count / SampledChunkEvery * DrawsPerSampledChunk) : sampled;
                unresolved.RemoveAll(t =>
                {
                    var (low, high) = Band(sample, sampled, draws, positions[t], chunks.ElementCount);
                    bool found = TryLocateInBand(chunks, low, high, DensestBucket(sample, low, high), positions[t], out bucket[t], out rest[t], out inBucket[t], out bool round,
                        out bucketPerChunk[t]);
                    roundKeysOnly &= round;
                    return found;
                });
            }
            finally { ScratchArrays<long>.Return(sample); }
        }
        if (unresolved.Count == 0) return roundKeysOnly;
        const int withLowBits = 1 << HighBits; // the slot after the buckets: chunks holding a key with low bits
        var histogram = chunks.Histogram(withLowBits + 1, CountHighBits);
        try
        {
            foreach (int t in unresolved)
            {
                (bucket[t], rest[t]) = Locate(histogram, 0, 1 << HighBits, positions[t]);
                inBucket[t] = histogram[bucket[t]];
            }
            return roundKeysOnly && histogram[withLowBits] == 0;
        }
        finally { ScratchArrays<long>.Return(histogram); }
    }

    /// <summary>
    /// A key with low bits (any of the 16 below a bucket's): pass 1 notes whether it saw one, at the cost of an OR per
    /// key. A difference of two bf16 values a few steps apart has at most 8 significant bits, so no key of a bf16 model's
    /// chat vector has low bits: each bucket then holds one key, and pass 2, a whole pass over the vector (on tensors
    /// over the kept keys, a reading of both models' bytes), is skipped.
    /// </summary>
    private static bool HasLowBits(uint orOfKeys) => (orOfKeys & LowMask) != 0;

    /// <summary>Sampling chunks when the keys are not kept: every 16th chunk, a sixteenth of one more reading.</summary>
    private const int SampledChunkEvery = 16;
    /// <summary>At least this many chunks, so that the sample spans the tensor.</summary>
    private const long MinChunksToSampleChunks = 4 * SampledChunkEvery;
    /// <summary>
    /// How many independent draws one sampled chunk is taken to be worth in the band's width: its keys are neighbouring
    /// rows, whose magnitudes may differ from other rows' as a whole. Too few widens the band (scalar work on its keys);
    /// too many risks a band missing the position, which costs a full histogram pass, never a wrong answer.
    /// </summary>
    private const int DrawsPerSampledChunk = 256;

    /// <summary>
    /// The buckets holding the sample's ranks <see cref="BandSigmas"/> standard deviations either side of where
    /// <paramref name="position"/> falls in it, the deviations those of <paramref name="draws"/> independent draws.
    /// </summary>
    private static (uint Low, uint High) Band(long[] sample, long sampled, double draws, long position, long elementCount)
    {
        double quantile = (double)position / elementCount;
        double estimate = quantile * sampled;
        double margin = BandSigmas * Math.Sqrt(draws * quantile * (1 - quantile)) * (sampled / draws) + 8;
        long first = (long)Math.Clamp(Math.Floor(estimate - margin), 0, sampled - 1);
        long last = (long)Math.Clamp(Math.Ceiling(estimate + margin), 0, sampled - 1);
        return (Locate(sample, 0, 1 << HighBits, first).Bucket, Locate(sample, 0, 1 << HighBits, last).Bucket);
    }

    /// <summary>The bucket of [low, high] that holds the most sampled keys (the lowest of equals).</summary>
    private static uint DensestBucket(long[] sample, uint low, uint high)
    {
        uint densest = low;
        for (uint b = low + 1; b <= high; b++)
            if (sample[b] > sample[densest]) densest = b;
        return densest;
    }

    /// <summary>
    /// The bucket of <paramref name="position"/> and its rank there, when the bucket lies in [low, high];
    /// <paramref name="densest"/>, the band's bucket expected to hold the most keys, is counted in SIMD registers.
    /// </summary>
    /// <summary>A wider band is not counted per chunk (its counters would grow with chunks × width); pass 3 then counts again.</summary>
    private const int MaxBandCountedPerChunk = 256;

    /// <param name="bucketPerChunk">When the pass read the files: the found bucket's count in each chunk, for pass 3.</param>
    private static bool TryLocateInBand(Chunks chunks, uint low, uint high, uint densest, long position,
        out uint bucket, out long rankWithin, out long inBucket, out bool roundKeysOnly, out long[]? bucketPerChunk)
    {
        int width = (int)(high - low) + 1;
        var perChunk = chunks.CanKeepKeys || width > MaxBandCountedPerChunk ? null : new long[chunks.Count * (width + 2)];
        var counts = chunks.Histogram(width + 2, (keys, histogram) => CountBand(keys, histogram, low, high, densest), perChunk);
        try
        {
            long below = counts[0];
            roundKeysOnly = counts[width + 1] == 0;
            bucket = 0;
            rankWithin = 0;
            inBucket = 0;
            bucketPerChunk = null;
            if (position < below || !TryLocate(counts, 1, width, position - below, out uint offset, out rankWithin)) return false;
            bucket = low + offset;
            inBucket = counts[1 + offset];
            if (perChunk is not null)
            {
                bucketPerChunk = new long[chunks.Count];
                for (long chunk = 0; chunk < chunks.Count; chunk++) bucketPerChunk[chunk] = perChunk[chunk * (width + 2) + 1 + offset];
            }
            return true;
        }
        finally { ScratchArrays<long>.Return(counts); }
    }

    /// <summary>The sample: the high buckets of every <see cref="SampleStride"/>-th key of a chunk, from its first.</summary>
    private static void SampleHighBits(ReadOnlySpan<uint> keys, long[] histogram)
    {
        for (int i = 0; i < keys.Length; i += SampleStride) histogram[keys[i] >> LowBits]++;
    }

    /// <summary>The full pass-1 histogram: one counter per high bucket; the slot after them counts the chunks holding a key with low bits.</summary>
    [MethodImpl(HotLoop.Options)]
    private static void CountHighBits(ReadOnlySpan<uint> keys, long[] histogram)
    {
        uint orOfKeys = 0;
        foreach (var key in keys)
        {
            histogram[key >> LowBits]++;
            orOfKeys |= key;
        }
        if (HasLowBits(orOfKeys)) histogram[1 << HighBits]++;
    }

    /// <summary>
    /// histogram[0] += the keys whose bucket lies below <paramref name="low"/>; histogram[1 + b − low] += those in bucket
    /// b of [low, high]; histogram[2 + high − low] += 1 when a key has low bits. Compared a SIMD vector at a time. The keys of the <paramref name="densest"/> bucket are counted
    /// per lane in a register; only the lanes holding another key of the band are visited, from the comparison's bit
    /// mask. Why: on a bf16 chat vector a few bf16 steps wide, the band is often one bucket holding a large share of the
    /// keys, a single tied magnitude; visited lane by lane, each costs a branch no predictor can learn.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    private static void CountBand(ReadOnlySpan<uint> keys, long[] histogram, uint low, uint high, uint densest)
    {
        uint span = high - low;
        long below = 0, inDensest = 0;
        uint orOfKeys = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lowBucket = Vector256.Create(low);
            var bandSpan = Vector256.Create(span);
            var densestBucket = Vector256.Create(densest);
            // Counted down by the comparisons' all-ones (−1) lanes; a chunk has far fewer than 2^32 keys per lane.
            var belowPerLane = Vector256<uint>.Zero;
            var densestPerLane = Vector256<uint>.Zero;
            var orPerLane = Vector256<uint>.Zero;
            for (; i <= keys.Length - Vector256<uint>.Count; i += Vector256<uint>.Count)
            {
                var key = Vector256.Create(keys[i..]);
                orPerLane |= key;
                var buckets = Vector256.ShiftRightLogical(key, LowBits);
                belowPerLane -= Vector256.LessThan(buckets, lowBucket);
                var isDensest = Vector256.Equals(buckets, densestBucket);
                densestPerLane -= isDensest;
                // Unsigned: a bucket below the band wraps around to a large offset.
                var offsets = buckets - lowBucket;
                var elsewhereInBand = Vector256.AndNot(Vector256.LessThanOrEqual(offsets, bandSpan), isDensest);
                for (uint lanes = elsewhereInBand.ExtractMostSignificantBits(); lanes != 0; lanes &= lanes - 1)
                    histogram[1 + offsets.GetElement(BitOperations.TrailingZeroCount(lanes))]++;
            }
            below += Vector256.Sum(belowPerLane);
            inDensest += Vector256.Sum(densestPerLane);
            for (int lane = 0; lane < Vector256<uint>.Count; lane++) orOfKeys |= orPerLane.GetElement(lane);
        }
        for (; i < keys.Length; i++)
        {
            orOfKeys |= keys[i];
            uint bucket = keys[i] >> LowBits;
            if (bucket < low) below++;
            else if (bucket - low <= span) histogram[1 + bucket - low]++;
        }
        histogram[0] += below;
        histogram[1 + densest - low] += inDensest;
        if (HasLowBits(orOfKeys)) histogram[2 + span]++;
    }

    private const uint LowMask = (1u << LowBits) - 1;

    /// <summary>
    /// Pass 2 for one wanted bucket (a magnitude trim's only bound), compared a SIMD vector at a time. The keys of the
    /// bucket whose low bits are all zero are counted per lane in a register; only the lanes holding another key of
    /// the bucket are visited, from the comparison's bit mask. Why zero: a difference of two bf16 values a few steps
    /// apart has at most 8 significant bits, so its float32 key has no low bits, and a chat vector of a bf16 model ties
    /// massively (its threshold key often held by a large share of the keys), so visiting each vector holding one, lane
    /// by lane, would cost a branch per tied key. Float32 data rarely ties, and few of its keys lie in the bucket.
    /// </summary>
    private static HistogramAdder LowBitsIn(uint wanted) => (keys, histogram) => CountLowBits(keys, histogram, wanted);

    [MethodImpl(HotLoop.Options)]
    private static void CountLowBits(ReadOnlySpan<uint> keys, long[] histogram, uint wanted)
    {
        long roundKeys = 0; // keys of the bucket with low bits zero
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var bucket = Vector256.Create(wanted);
            var roundKey = Vector256.Create(wanted << LowBits);
            var roundPerLane = Vector256<uint>.Zero; // counted down by the all-ones (−1) lanes
            for (; i <= keys.Length - Vector256<uint>.Count; i += Vector256<uint>.Count)
            {
                var key = Vector256.Create(keys[i..]);
                var isRound = Vector256.Equals(key, roundKey);
                roundPerLane -= isRound;
                var otherInBucket = Vector256.AndNot(Vector256.Equals(Vector256.ShiftRightLogical(key, LowBits), bucket), isRound);
                for (uint lanes = otherInBucket.ExtractMostSignificantBits(); lanes != 0; lanes &= lanes - 1)
                    histogram[key.GetElement(BitOperations.TrailingZeroCount(lanes)) & LowMask]++;
            }
            roundKeys = Vector256.Sum(roundPerLane);
        }
        for (; i < keys.Length; i++)
            if (keys[i] >> LowBits == wanted) histogram[keys[i] & LowMask]++;
        histogram[0] += roundKeys;
    }

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

    /// <summary>A tensor's keys as numbered chunks, read by a few threads at once, each with its own key buffer.</summary>
    /// <param name="cache">Room for every key (the first pass fills it, the later passes read it), or null: every pass reads.</param>
    private sealed class Chunks(long elementCount, int chunkElements, KeyReader readKeys, int parallelism, CancellationToken cancellation, uint[]? cache)
    {
        /// <summary>A pass over every chunk has filled the cache: the later passes read the keys it holds.</summary>
        private bool _cached;

        public long Count => (elementCount + chunkElements - 1) / chunkElements;

        public long ElementCount => elementCount;

        /// <summary>Whether every key can be kept in memory between passes.</summary>
        public bool CanKeepKeys => cache is not null;

        private void Read(long chunk, uint[] buffer, out Span<uint> keys)
        {
            cancellation.ThrowIfCancellationRequested();
            long start = chunk * chunkElements;
            int length = (int)Math.Min(chunkElements, elementCount - start);
            if (cache is null)
            {
                keys = buffer.AsSpan(0, length);
                readKeys(start, keys);
                return;
            }
            keys = cache.AsSpan((int)start, length);
            if (!_cached) readKeys(start, keys);
        }

        /// <summary>
        /// A histogram of <paramref name="size"/> counters filled by <paramref name="add"/> over every chunk (per thread,
        /// then summed), in a scratch array the caller returns (at least <paramref name="size"/> long): one per pass of
        /// every trimmed tensor, so fresh ones (large-object heap, collected only by a full GC) piled up in memory.
        /// </summary>
        /// <param name="perChunk">Also each chunk's own counters, at [chunk × size, (chunk + 1) × size), or null.</param>
        public long[] Histogram(int size, HistogramAdder add, long[]? perChunk = null)
        {
            var total = HistogramOf(Count, chunk => chunk, size, add, perChunk);
            _cached = cache is not null; // every chunk was read
            return total;
        }

        /// <summary>A histogram as <see cref="Histogram"/>'s over every <paramref name="every"/>-th chunk only (from the middle of the first stretch).</summary>
        public long[] SampleOfChunks(int every, HistogramAdder add) =>
            HistogramOf(Count / every, p => p * every + every / 2, 1 << HighBits, add, perChunk: null);

        /// <summary>The histogram over the chunks <paramref name="chunkAt"/>(0 .. <paramref name="count"/> − 1).</summary>
        private long[] HistogramOf(long count, Func<long, long> chunkAt, int size, HistogramAdder add, long[]? perChunk)
        {
            var total = ScratchArrays<long>.Rent(size);
            Array.Clear(total, 0, size);
            RunOnThreads(worker =>
            {
                var buffer = ScratchArrays<uint>.Rent(chunkElements);
                var mine = ScratchArrays<long>.Rent(size);
                var ofChunk = perChunk is null ? null : ScratchArrays<long>.Rent(size);
                try
                {
                    Array.Clear(mine, 0, size);
                    for (long p = worker; p < count; p += parallelism)
                    {
                        long chunk = chunkAt(p);
                        Read(chunk, buffer, out var keys);
                        if (ofChunk is null)
                        {
                            add(keys, mine);
                            continue;
                        }
                        Array.Clear(ofChunk, 0, size);
                        add(keys, ofChunk);
                        ofChunk.AsSpan(0, size).CopyTo(perChunk.AsSpan((int)(chunk * size), size));
                        for (int i = 0; i < size; i++) mine[i] += ofChunk[i];
                    }
                    lock (total)
                        for (int i = 0; i < size; i++) total[i] += mine[i];
                }
                finally
                {
                    ScratchArrays<uint>.Return(buffer);
                    ScratchArrays<long>.Return(mine);
                    if (ofChunk is not null) ScratchArrays<long>.Return(ofChunk);
                }
            });
            return total;
        }

        /// <summary>
        /// As <see cref="NthEqual"/>, knowing how many elements equal to <paramref name="key"/> each chunk holds: reads
        /// only the chunk holding the wanted one.
        /// </summary>
        public long NthEqualCounted(uint key, long rank, long[] equalPerChunk)
        {
            for (long chunk = 0; chunk < Count; chunk++)
            {
                if (rank >= equalPerChunk[chunk])
                {
                    rank -= equalPerChunk[chunk];
                    continue;
                }
                var buffer = ScratchArrays<uint>.Rent(chunkElements);
                try
                {
                    Read(chunk, buffer, out var keys);
                    for (int i = 0; i < keys.Length; i++)
                        if (keys[i] == key && rank-- == 0) return chunk * chunkElements + i;
                }
                finally { ScratchArrays<uint>.Return(buffer); }
                break;
            }
            throw new InvalidOperationException("the tensor's values changed between selection passes");
        }

        /// <summary>
        /// The flat index of the <paramref name="rank"/>-th (0-based) of the <paramref name="equalCount"/> elements whose key
        /// is <paramref name="key"/>. Chunks are counted a batch at a time on the threads, from the end nearer the wanted
        /// element (a quarter of the tensor read on average, not half), then the counts are walked in that order.
        /// </summary>
        public long NthEqual(uint key, long rank, long equalCount)
        {
            if (parallelism == 1 || Count == 1) return NthEqualInOrder(key, rank);
            bool backward = rank >= equalCount / 2;
            long wanted = backward ? equalCount - 1 - rank : rank; // counted from the end the scan starts at
            long batch = parallelism * 4L;
            var counts = new long[batch];
            for (long done = 0; done < Count; done += batch)
            {
                long n = Math.Min(batch, Count - done);
                long ChunkAt(long p) => backward ? Count - 1 - (done + p) : done + p;
                RunOnThreads(worker =>
                {
                    var buffer = ScratchArrays<uint>.Rent(chunkElements);
                    try
                    {
                        for (long p = worker; p < n; p += parallelism)
                        {
                            Read(ChunkAt(p), buffer, out var keys);
                            counts[p] = CountEqual(keys, key);
                        }
                    }
                    finally { ScratchArrays<uint>.Return(buffer); }
                });
                for (long p = 0; p < n; p++)
                {
                    if (wanted >= counts[p]) { wanted -= counts[p]; continue; }
                    long chunk = ChunkAt(p);
                    long within = backward ? counts[p] - 1 - wanted : wanted; // rank among the chunk's equal keys, from its start
                    var buffer = ScratchArrays<uint>.Rent(chunkElements);
                    try
                    {
                        Read(chunk, buffer, out var keys);
                        for (int i = 0; i < keys.Length; i++)
                            if (keys[i] == key && within-- == 0) return chunk * chunkElements + i;
                    }
                    finally { ScratchArrays<uint>.Return(buffer); }
                    throw new InvalidOperationException("the tensor's values changed between selection passes");
                }
            }
            throw new InvalidOperationException("the tensor's values changed between selection passes");
        }

        /// <summary>One thread: the chunks in order, stopping at the element (one read per chunk, none after it).</summary>
        private long NthEqualInOrder(uint key, long rank)
        {
            var buffer = ScratchArrays<uint>.Rent(chunkElements);
            try
            {
                for (long chunk = 0; chunk < Count; chunk++)
                {
                    Read(chunk, buffer, out var keys);
                    for (int i = 0; i < keys.Length; i++)
                        if (keys[i] == key && rank-- == 0) return chunk * chunkElements + i;
                }
            }
            finally { ScratchArrays<uint>.Return(buffer); }
            throw new InvalidOperationException("the tensor's values changed between selection passes");
        }

        private static long CountEqual(ReadOnlySpan<uint> keys, uint key) => keys.Count(key); // the runtime's SIMD count

        /// <summary>Runs <paramref name="work"/>(0 .. parallelism-1), worker 0 on this thread, the others on threads of their own
        /// (not the thread pool: its threads may all be streaming workers waiting for this selection).</summary>
        private void RunOnThreads(Action<int> work)
        {
            int workers = (int)Math.Min(parallelism, Math.Max(1, Count));
            ExceptionDispatchInfo? failure = null;
            void Guarded(int worker)
            {
                try { work(worker); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
            }
            var threads = Enumerable.Range(1, workers - 1).Select(w => new Thread(() =>
            {
                _selecting = true;
                Guarded(w);
            }) { IsBackground = true }).ToList();
            foreach (var thread in threads) thread.Start();
            Guarded(0);
            foreach (var thread in threads) thread.Join();
            failure?.Throw();
        }
    }

    private delegate void HistogramAdder(ReadOnlySpan<uint> keys, long[] histogram);

    /// <summary>
    /// One reusable array for a tensor's keys during its selection, so passes 2 and 3 scan memory instead of reading and
    /// recomputing the vector (reading and computing keys is a trim's main cost). Up to 16M keys (64 MB; every layer tensor
    /// of a model with hidden size 2048, the attention tensors of a 7B model); larger tensors sample chunks instead (see
    /// <see cref="LocateHighBuckets"/>). Kept for the
    /// process once made: its pages are only those used. A selection that finds it in use waits for it: the two vectors
    /// of a merged tensor are often selected at once (its first chunks start while the next tensor's preparation runs
    /// one selection), both on all cores, and the one without the array would read its files again.
    /// </summary>
    private static class KeyCache
    {
        public const int MaxKeys = 16 << 20;
        /// <summary>
        /// The longest wait. A selection of 16M keys takes well under a second; the bound matters only when the holder
        /// waits for the waiter (a trim of a trimmed vector whose inner trim is being selected on another thread, its
        /// lock held): the waiter then goes on without the array, and both finish.
        /// </summary>
        private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);
        private static uint[]? _spare;
        private static bool _made;
        private static readonly object Gate = new();

        public static uint[]? Rent(long elementCount, bool mayWait, CancellationToken cancellation)
        {
            if (elementCount > MaxKeys) return null;
            var waited = System.Diagnostics.Stopwatch.StartNew();
            lock (Gate)
            {
                while (true)
                {
                    if (_spare is { } spare)
                    {
                        _spare = null;
                        return spare;
                    }
                    if (!_made)
                    {
                        _made = true;
                        return GC.AllocateUninitializedArray<uint>(MaxKeys);
                    }
                    var left = MaxWait - waited.Elapsed;
                    if (!mayWait || left <= TimeSpan.Zero) return null;
                    cancellation.ThrowIfCancellationRequested();
                    Monitor.Wait(Gate, TimeSpan.FromMilliseconds(Math.Min(50, left.TotalMilliseconds))); // woken by Return; the slices notice cancellation
                }
            }
        }

        public static void Return(uint[] keys)
        {
            lock (Gate)
            {
                _spare = keys;
                Monitor.PulseAll(Gate);
            }
        }
    }
}
