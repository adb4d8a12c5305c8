using System.Numerics;
using System.Runtime.InteropServices;

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
    /// would be mispredicted as often.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private static void KeepFloats(Span<float> row, int[] ranks, ulong[] draws, ulong[] thresholds, double[]? probabilities)
    {
        for (int j = 0; j < row.Length; j++)
        {
            int rank = ranks[j];
            float value = probabilities is null ? row[j] : (float)(row[j] / probabilities[rank]);
            uint keep = 0u - (draws[j] < thresholds[rank] ? 1u : 0u);
            row[j] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) & keep);
        }
    }
}
