using ChatVector.Core.Kernels;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

// Pass 1 of the selection: which high bucket holds each position, and the counting loops it runs over each chunk.
public static partial class ExactSelection
{
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
    /// <param name="exact">Each position, once pass 1 has counted the zero keys it may depend on (<see cref="OrderPositions"/>).</param>
    private static bool LocateHighBuckets(OrderPositions positions, SelectionChunks chunks, long[] exact, uint[] bucket, long[] rest, long[] inBucket, long[]?[] bucketPerChunk)
    {
        var unresolved = Enumerable.Range(0, positions.Count).ToList();
        bool roundKeysOnly = true;
        bool sampleReadsFiles = !chunks.CanKeepKeys;
        // Without kept keys each band pass reads the files: worth it for one position (a trim's threshold), whose band
        // pass then replaces the full histogram; several positions (Breadcrumbs' two bounds) take the full histogram.
        if (chunks.ElementCount >= SampleFrom && (!sampleReadsFiles || positions.Count == 1 && chunks.Count >= MinChunksToSampleChunks))
        {
            var sample = sampleReadsFiles ? chunks.SampleOfChunks(SampledChunkEvery, 1 << HighBits, SampleHighBits) : chunks.Histogram(1 << HighBits, SampleHighBits);
            try
            {
                long sampled = 0;
                for (int b = 0; b < 1 << HighBits; b++) sampled += sample[b];
                // Keys read a chunk at a time come in runs of rows, alike within a chunk: the sample counts as fewer draws.
                double draws = sampleReadsFiles ? Math.Min(sampled, chunks.Count / SampledChunkEvery * DrawsPerSampledChunk) : sampled;
                // Positions that depend on the zero keys are estimated from the sample's lowest bucket (zeros, and
                // subnormals too small to matter), with a band twice as wide for the estimate's own error.
                var estimated = positions.For((long)((double)sample[0] / Math.Max(1, sampled) * chunks.ElementCount));
                double widening = positions.DependOnZeros ? 2 : 1;
                unresolved.RemoveAll(t =>
                {
                    var (low, high) = Band(sample, sampled, draws, Math.Min(estimated[t], chunks.ElementCount - 1), chunks.ElementCount, widening);
                    bool found = TryLocateInBand(chunks, low, high, DensestBucket(sample, low, high), positions, t, out exact[t], out bucket[t], out rest[t], out inBucket[t],
                        out bool round, out bucketPerChunk[t]);
                    roundKeysOnly &= round;
                    return found;
                });
            }
            finally { ScratchArrays<long>.Return(sample); }
        }
        if (unresolved.Count == 0) return roundKeysOnly;
        var histogram = chunks.Histogram(FullHistogramSize, positions.DependOnZeros ? CountHighBitsAndZeros : CountHighBits);
        try
        {
            return LocateInHistogram(positions, chunks.ElementCount, histogram, exact, bucket, rest, inBucket, unresolved) && roundKeysOnly;
        }
        finally { ScratchArrays<long>.Return(histogram); }
    }

    private const int WithLowBits = 1 << HighBits; // the full histogram's slot after the buckets: chunks holding a key with low bits
    private const int ZeroKeys = WithLowBits + 1; // then the zero keys
    private const int FullHistogramSize = ZeroKeys + 1;

    /// <summary>
    /// Each position's bucket and rank from the full pass-1 histogram (for <paramref name="which"/> positions, or all);
    /// whether every key's low bits are zero.
    /// </summary>
    private static bool LocateInHistogram(OrderPositions positions, long elementCount, long[] histogram, long[] exact, uint[] bucket, long[] rest, long[] inBucket,
        IEnumerable<int>? which = null)
    {
        var known = positions.For(histogram[ZeroKeys]);
        foreach (int t in which ?? Enumerable.Range(0, positions.Count))
        {
            exact[t] = known[t];
            if (known[t] >= elementCount) continue; // past every element: nothing to locate
            (bucket[t], rest[t]) = Locate(histogram, 0, 1 << HighBits, known[t]);
            inBucket[t] = histogram[bucket[t]];
        }
        return histogram[WithLowBits] == 0;
    }
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
    private static (uint Low, uint High) Band(long[] sample, long sampled, double draws, long position, long elementCount, double widening)
    {
        double quantile = (double)position / elementCount;
        double estimate = quantile * sampled;
        double margin = (BandSigmas * Math.Sqrt(draws * quantile * (1 - quantile)) * (sampled / draws) + 8) * widening;
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

    /// <summary>A wider band is not counted per chunk (its counters would grow with chunks × width); pass 3 then counts again.</summary>
    private const int MaxBandCountedPerChunk = 256;

    /// <summary>
    /// The bucket of <paramref name="position"/> and its rank there, when the bucket lies in [low, high];
    /// <paramref name="densest"/>, the band's bucket expected to hold the most keys, is counted in SIMD registers.
    /// </summary>
    /// <param name="bucketPerChunk">When the pass read the files: the found bucket's count in each chunk, for pass 3.</param>
    /// <param name="positions">The positions, of which the <paramref name="t"/>-th is wanted, exact once this pass has counted the zero keys.</param>
    private static bool TryLocateInBand(SelectionChunks chunks, uint low, uint high, uint densest, OrderPositions positions, int t,
        out long position, out uint bucket, out long rankWithin, out long inBucket, out bool roundKeysOnly, out long[]? bucketPerChunk)
    {
        int width = (int)(high - low) + 1;
        int size = width + 3; // below the band, the band's buckets, keys with low bits, zero keys (counted when wanted)
        var perChunk = chunks.CanKeepKeys || width > MaxBandCountedPerChunk ? null : new long[chunks.Count * size];
        bool countZeros = positions.DependOnZeros;
        var counts = chunks.Histogram(size, (keys, histogram) =>
        {
            CountBand(keys, histogram, low, high, densest);
            if (countZeros) histogram[width + 2] += keys.Count(0u); // only for positions that depend on them
        }, perChunk);
        try
        {
            long below = counts[0];
            roundKeysOnly = counts[width + 1] == 0;
            position = positions.For(counts[width + 2])[t];
            bucket = 0;
            rankWithin = 0;
            inBucket = 0;
            bucketPerChunk = null;
            if (position >= chunks.ElementCount) return true; // past every element: nothing to locate
            if (position < below || !TryLocate(counts, 1, width, position - below, out uint offset, out rankWithin)) return false;
            bucket = low + offset;
            inBucket = counts[1 + offset];
            if (perChunk is not null)
            {
                bucketPerChunk = new long[chunks.Count];
                for (long chunk = 0; chunk < chunks.Count; chunk++) bucketPerChunk[chunk] = perChunk[chunk * size + 1 + offset];
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

    /// <summary>
    /// The full pass-1 histogram: one counter per high bucket; the slot after them counts the chunks holding a key with
    /// low bits (the next one, the zero keys, is <see cref="CountHighBitsAndZeros"/>'s).
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    private static void CountHighBits(ReadOnlySpan<uint> keys, long[] histogram)
    {
        uint orOfKeys = 0;
        foreach (var key in keys)
        {
            histogram[key >> LowBits]++;
            orOfKeys |= key;
        }
        if (HasLowBits(orOfKeys)) histogram[WithLowBits]++;
    }

    /// <summary>
    /// <see cref="CountHighBits"/>, and the zero keys into their slot: for positions that depend on them only, so that a
    /// trim's histogram does not pay for them (a SIMD count over the chunk's keys, still in cache).
    /// </summary>
    private static void CountHighBitsAndZeros(ReadOnlySpan<uint> keys, long[] histogram)
    {
        CountHighBits(keys, histogram);
        histogram[ZeroKeys] += keys.Count(0u);
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
}
