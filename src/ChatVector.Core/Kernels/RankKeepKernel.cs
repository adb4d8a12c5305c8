using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ChatVector.Core.Kernels;

/// <summary>
/// A keep mask by rank (DELLA's): element j stays when its draw's bits lie below its rank's threshold, divided by its
/// rank's probability when <c>probabilities</c> is given (in double, rounded once), else zero.
/// </summary>
public static class RankKeepKernel
{
    public static void Apply<T>(Span<T> row, int[] ranks, ulong[] draws, ulong[] thresholds, double[]? probabilities)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            KeepFloats(MemoryMarshal.Cast<T, float>(row), ranks, draws, thresholds, probabilities);
            return;
        }
        for (int j = 0; j < row.Length; j++)
        {
            int rank = ranks[j];
            row[j] = draws[j] < thresholds[rank]
                ? (probabilities is null ? row[j] : T.CreateTruncating(double.CreateTruncating(row[j]) / probabilities[rank]))
                : T.Zero;
        }
    }

    /// <summary>
    /// Float32, branch-free (a mask on the bits): about a third of the elements stay, at random, and a branch on each
    /// would be mispredicted as often. Without a division (an L1 rescale, or none), eight elements at a time where the
    /// CPU gathers: each rank's threshold fetched by a gather, the draws compared as unsigned 64-bit integers (their
    /// sign bits flipped for the signed comparison), the masks narrowed to the floats' lanes.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private static unsafe void KeepFloats(Span<float> row, int[] ranks, ulong[] draws, ulong[] thresholds, double[]? probabilities)
    {
        int start = 0;
        if (probabilities is null && Avx2.IsSupported && row.Length >= 8)
        {
            // A gather does not check its indices: the ranks are a permutation of the row's positions (RowRanks), each
            // below the row's length, so the table must cover the row.
            if (ranks.Length < row.Length || draws.Length < row.Length || thresholds.Length < row.Length)
                throw new ArgumentException("fewer ranks, draws or thresholds than elements");
            fixed (int* rankAt = ranks)
            fixed (ulong* drawAt = draws)
            fixed (ulong* thresholdAt = thresholds)
            fixed (float* valueAt = row)
            {
                var signBits = Vector256.Create(0x8000_0000_0000_0000UL);
                for (; start <= row.Length - 8; start += 8)
                {
                    var rankLanes = Vector256.Load(rankAt + start);
                    var lowThresholds = Avx2.GatherVector256(thresholdAt, rankLanes.GetLower(), 8);
                    var highThresholds = Avx2.GatherVector256(thresholdAt, rankLanes.GetUpper(), 8);
                    var lowDraws = Vector256.Load(drawAt + start);
                    var highDraws = Vector256.Load(drawAt + start + 4);
                    var keepLow = Avx2.CompareGreaterThan((lowThresholds ^ signBits).AsInt64(), (lowDraws ^ signBits).AsInt64()).AsUInt64();
                    var keepHigh = Avx2.CompareGreaterThan((highThresholds ^ signBits).AsInt64(), (highDraws ^ signBits).AsInt64()).AsUInt64();
                    var keep = Vector256.Narrow(keepLow, keepHigh);
                    (Vector256.Load(valueAt + start).AsUInt32() & keep).AsSingle().Store(valueAt + start);
                }
            }
        }
        for (int j = start; j < row.Length; j++)
        {
            int rank = ranks[j];
            float value = probabilities is null ? row[j] : (float)(row[j] / probabilities[rank]);
            uint keep = 0u - (draws[j] < thresholds[rank] ? 1u : 0u);
            row[j] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) & keep);
        }
    }
}
