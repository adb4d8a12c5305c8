using ChatVector.Core.Kernels;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

// Pass 2 of the selection: the exact key inside each wanted bucket, and the counting loop it runs over each chunk.
public static partial class ExactSelection
{
    /// <summary>Pass 2: inside each wanted bucket, the exact key, its count, and each position's rank among its equals (into <paramref name="rest"/>).</summary>
    private static void LocateLowBits(SelectionChunks chunks, uint[] bucket, long[] rest, uint[] exactKey, long[] equalCount)
    {
        // One histogram holds every wanted bucket's low bits.
        var buckets = bucket.Distinct().ToArray();
        var low = chunks.Histogram(buckets.Length << LowBits, buckets.Length == 1 ? LowBitsIn(buckets[0]) : (keys, histogram) => CountLowBits(keys, histogram, buckets));
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

    /// <summary>
    /// Pass 2 for several wanted buckets (quantiles): each bucket's low bits in its own slot of the histogram. A SIMD
    /// vector of keys is compared with up to four buckets at once and only the lanes in one of them are visited: the
    /// wanted buckets hold a small share of the keys, so most vectors hold none.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    private static void CountLowBits(ReadOnlySpan<uint> keys, long[] histogram, uint[] buckets)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && buckets.Length <= 4)
        {
            // Fewer than four buckets repeat the first: a lane equal to it twice is still one hit.
            var b0 = Vector256.Create(buckets[0]);
            var b1 = Vector256.Create(buckets[Math.Min(1, buckets.Length - 1)]);
            var b2 = Vector256.Create(buckets[Math.Min(2, buckets.Length - 1)]);
            var b3 = Vector256.Create(buckets[Math.Min(3, buckets.Length - 1)]);
            for (; i <= keys.Length - Vector256<uint>.Count; i += Vector256<uint>.Count)
            {
                var high = Vector256.ShiftRightLogical(Vector256.Create(keys[i..]), LowBits);
                var hit = Vector256.Equals(high, b0) | Vector256.Equals(high, b1) | Vector256.Equals(high, b2) | Vector256.Equals(high, b3);
                for (uint lanes = hit.ExtractMostSignificantBits(); lanes != 0; lanes &= lanes - 1)
                    CountInSlot(keys[i + BitOperations.TrailingZeroCount(lanes)], histogram, buckets);
            }
        }
        for (; i < keys.Length; i++) CountInSlot(keys[i], histogram, buckets);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CountInSlot(uint key, long[] histogram, uint[] buckets)
    {
        uint high = key >> LowBits;
        for (int slot = 0; slot < buckets.Length; slot++)
            if (buckets[slot] == high) { histogram[(slot << LowBits) | (int)(key & LowMask)]++; return; }
    }
}
