using System.Numerics;
using System.Runtime.InteropServices;

namespace ChatVector.Core.Kernels;

/// <summary>
/// The magnitude trims' mask (TIES, Breadcrumbs): an element stays when its place in the magnitude order
/// (<see cref="OrderPoint"/>) lies in [lower, upper), divided by <c>divisor</c> when one is given, else zero.
/// </summary>
public static class TrimKernel
{
    /// <param name="divisor">What kept values are divided by (in double, rounded once), or null to keep them as they are.</param>
    public static void Apply<T>(Span<T> values, long firstElement, OrderPoint lower, OrderPoint upper, double? divisor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int done = 0;
        if (typeof(T) == typeof(float) && divisor is null) done = KeepFloatBits(MemoryMarshal.Cast<T, uint>(values), firstElement, lower, upper);
        for (int i = done; i < values.Length; i++)
        {
            var point = new OrderPoint(MagnitudeOrder.Key(float.CreateTruncating(values[i])), firstElement + i);
            values[i] = point >= lower && point < upper ? Divided(values[i], divisor) : T.Zero;
        }
    }

    private static T Divided<T>(T value, double? divisor) where T : unmanaged, IFloatingPointIeee754<T> =>
        divisor is { } d ? T.CreateTruncating(double.CreateTruncating(value) / d) : value;

    /// <summary>
    /// The float32 case on the bit patterns, a SIMD vector at a time (the caller does the tail): an element is kept
    /// when its key lies strictly between the bounds' keys, or equals a bound's key on the kept side of the bound's
    /// index. The lanes hold consecutive indices, so the index test is a lane number against where the bound falls in
    /// the vector; bf16 data has so many equal magnitudes that a vector holding the threshold's key is common.
    /// </summary>
    /// <returns>How many leading elements were done.</returns>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private static int KeepFloatBits(Span<uint> bits, long firstElement, OrderPoint lowerBound, OrderPoint upperBound)
    {
        int i = 0, width = Vector<uint>.Count;
        if (!Vector.IsHardwareAccelerated) return 0;
        var magnitude = new Vector<uint>(0x7FFF_FFFFu);
        var lower = new Vector<uint>(lowerBound.Key);
        var upper = new Vector<uint>(upperBound.Key);
        var lanes = LaneNumbers(width);
        for (; i <= bits.Length - width; i += width)
        {
            var word = new Vector<uint>(bits[i..]);
            var keys = word & magnitude;
            long index = firstElement + i;
            // Lanes at or after the lower bound's index, and before the upper bound's (clamped to the vector's reach).
            var fromLower = Vector.AsVectorUInt32(Vector.GreaterThanOrEqual(lanes, new Vector<int>(LaneOf(lowerBound.Index, index, width))));
            var beforeUpper = Vector.AsVectorUInt32(Vector.LessThan(lanes, new Vector<int>(LaneOf(upperBound.Index, index, width))));
            var aboveLower = Vector.GreaterThan(keys, lower) | (Vector.Equals(keys, lower) & fromLower);
            var belowUpper = Vector.LessThan(keys, upper) | (Vector.Equals(keys, upper) & beforeUpper);
            (word & aboveLower & belowUpper).CopyTo(bits[i..]);
        }
        return i;
    }

    private static Vector<int> LaneNumbers(int width)
    {
        Span<int> numbers = stackalloc int[width];
        for (int lane = 0; lane < width; lane++) numbers[lane] = lane;
        return new Vector<int>(numbers);
    }

    /// <summary>The lane of a vector starting at <paramref name="first"/> that holds flat index <paramref name="index"/>, clamped to [−1, width].</summary>
    private static int LaneOf(long index, long first, int width) =>
        index < first ? -1 : index - first >= width ? width : (int)(index - first); // compared before subtracting: First.Index is long.MinValue
}
