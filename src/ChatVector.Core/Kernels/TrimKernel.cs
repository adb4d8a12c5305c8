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
    /// index. The tie rule flips once per bound, at its index, so the span runs in stretches of whole vectors over
    /// which both rules are fixed: a key then only needs comparing against two numbers. The vector a bound's index
    /// falls inside (bf16 data has so many equal magnitudes that one holding the threshold's key is common) takes the
    /// rule lane by lane.
    /// </summary>
    /// <returns>How many leading elements were done.</returns>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private static int KeepFloatBits(Span<uint> bits, long firstElement, OrderPoint lowerBound, OrderPoint upperBound)
    {
        if (!Vector.IsHardwareAccelerated) return 0;
        int width = Vector<uint>.Count;
        int vectorEnd = bits.Length - bits.Length % width;
        int i = 0;
        while (i < vectorEnd)
        {
            long index = firstElement + i;
            // Compared, not subtracted: First.Index is long.MinValue and End.Index long.MaxValue.
            bool lowerTieKept = index >= lowerBound.Index, upperTieKept = index < upperBound.Index;
            int stretchEnd = vectorEnd;
            if (!lowerTieKept) stretchEnd = Math.Min(stretchEnd, OffsetOf(lowerBound.Index, firstElement, vectorEnd));
            if (upperTieKept) stretchEnd = Math.Min(stretchEnd, OffsetOf(upperBound.Index, firstElement, vectorEnd));
            stretchEnd = i + (stretchEnd - i) / width * width;
            if (stretchEnd == i)
            {
                KeepLanes(bits.Slice(i, width), index, lowerBound, upperBound);
                i += width;
                continue;
            }
            // keep ⇔ above < key < below, compared signed: keys are at most 0x7FFF_FFFF.
            long above = lowerTieKept ? (long)lowerBound.Key - 1 : lowerBound.Key;
            long below = upperTieKept ? (long)upperBound.Key + 1 : upperBound.Key;
            KeepBetween(MemoryMarshal.Cast<uint, int>(bits[i..stretchEnd]), (int)Math.Clamp(above, -1, int.MaxValue), below);
            i = stretchEnd;
        }
        return vectorEnd;
    }

    /// <summary>Keeps the elements whose key k has <paramref name="above"/> &lt; k &lt; <paramref name="below"/>, zeroes the rest; whole vectors.</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private static void KeepBetween(Span<int> bits, int above, long below)
    {
        var magnitude = new Vector<int>(0x7FFF_FFFF);
        var aboveKeys = new Vector<int>(above);
        int width = Vector<int>.Count;
        if (below > int.MaxValue) // no key reaches the upper bound (End): one comparison
        {
            for (int i = 0; i < bits.Length; i += width)
            {
                var word = new Vector<int>(bits[i..]);
                (word & Vector.GreaterThan(word & magnitude, aboveKeys)).CopyTo(bits[i..]);
            }
            return;
        }
        var belowKeys = new Vector<int>((int)below); // at least 0: keys are never below it
        for (int i = 0; i < bits.Length; i += width)
        {
            var word = new Vector<int>(bits[i..]);
            var keys = word & magnitude;
            (word & Vector.GreaterThan(keys, aboveKeys) & Vector.LessThan(keys, belowKeys)).CopyTo(bits[i..]);
        }
    }

    /// <summary>The rule element by element, for the vector a bound's index falls inside.</summary>
    private static void KeepLanes(Span<uint> bits, long firstElement, OrderPoint lower, OrderPoint upper)
    {
        for (int lane = 0; lane < bits.Length; lane++)
        {
            var point = new OrderPoint(bits[lane] & 0x7FFF_FFFFu, firstElement + lane);
            if (!(point >= lower && point < upper)) bits[lane] = 0;
        }
    }

    /// <summary>Where flat index <paramref name="index"/> lies in a span starting at <paramref name="first"/>, clamped to [0, <paramref name="limit"/>].</summary>
    private static int OffsetOf(long index, long first, int limit) =>
        index <= first ? 0 : index - first >= limit ? limit : (int)(index - first);
}
