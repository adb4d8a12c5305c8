using System.Numerics;
using System.Runtime.InteropServices;

namespace ChatVector.Core.Kernels;

/// <summary>
/// DARE's mask: element i stays when its draw (<see cref="CounterRandom"/>) lies below density, divided by the density
/// when rescaling (in double, rounded once), else zero. The draws' integer bits are compared with
/// <see cref="RandomKeep.Threshold"/>, which is the same test exactly.
/// </summary>
public static class DareKernel
{
    public static void Apply<T>(Span<T> values, long firstElement, in CounterRandom random, double density, bool rescale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int done = typeof(T) == typeof(float) ? KeepFloats(MemoryMarshal.Cast<T, float>(values), firstElement, random, density, rescale) : 0;
        ulong threshold = RandomKeep.Threshold(density);
        for (int i = done; i < values.Length; i++)
            values[i] = random.Bits53(firstElement + i) < threshold
                ? (rescale ? T.CreateTruncating(double.CreateTruncating(values[i]) / density) : values[i])
                : T.Zero;
    }

    /// <summary>
    /// Float32 a SIMD vector at a time (the caller does the tail): the draws stepped by adds of their states, kept values
    /// divided in double and rounded to float32 lane by lane.
    /// </summary>
    /// <returns>How many leading elements were done.</returns>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private static int KeepFloats(Span<float> values, long firstElement, in CounterRandom random, double density, bool rescale)
    {
        int i = 0, width = Vector<float>.Count, half = Vector<ulong>.Count;
        if (!Vector.IsHardwareAccelerated || width != 2 * half) return 0;
        var limit = new Vector<ulong>(RandomKeep.Threshold(density));
        // The draws' states of the vector's lower half, stepped by adds (see CounterRandom.State).
        Span<ulong> lanes = stackalloc ulong[half];
        for (int l = 0; l < half; l++) lanes[l] = random.State(firstElement + l);
        var states = new Vector<ulong>(lanes);
        var upperHalf = new Vector<ulong>(CounterRandom.StateStride(half));
        var nextVector = new Vector<ulong>(CounterRandom.StateStride(width));
        var probability = new Vector<double>(density);
        for (; i <= values.Length - width; i += width, states += nextVector)
        {
            var keepLow = Vector.LessThan(CounterRandom.Bits53OfStates(states), limit);
            var keepHigh = Vector.LessThan(CounterRandom.Bits53OfStates(states + upperHalf), limit);
            var keep = Vector.AsVectorSingle(Vector.Narrow(keepLow, keepHigh));
            var value = new Vector<float>(values[i..]);
            if (rescale)
            {
                Vector.Widen(value, out var low, out var high);
                value = Vector.Narrow(low / probability, high / probability);
            }
            Vector.ConditionalSelect(Vector.AsVectorInt32(keep), value, Vector<float>.Zero).CopyTo(values[i..]);
        }
        return i;
    }
}
