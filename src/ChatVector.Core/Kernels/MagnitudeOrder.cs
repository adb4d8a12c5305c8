using System.Numerics;
using System.Runtime.InteropServices;

namespace ChatVector.Core.Kernels;

/// <summary>
/// A place in the one total order every magnitude rule uses: |v| in float32 ascending, ties by flat index
/// ascending. The magnitude is compared through its float32 bit pattern with the sign cleared, which orders
/// non-negative floats exactly (NaN sorts above infinity, so the order is total and deterministic).
/// </summary>
public readonly record struct OrderPoint(uint Key, long Index) : IComparable<OrderPoint>
{
    /// <summary>Before every element (keeps all, as a lower bound).</summary>
    public static readonly OrderPoint First = new(0, long.MinValue);
    /// <summary>After every element (keeps none, as a lower bound; excludes none, as an upper bound).</summary>
    public static readonly OrderPoint End = new(uint.MaxValue, long.MaxValue);

    public int CompareTo(OrderPoint other) => Key != other.Key ? Key.CompareTo(other.Key) : Index.CompareTo(other.Index);

    public static bool operator <(OrderPoint a, OrderPoint b) => a.CompareTo(b) < 0;
    public static bool operator >(OrderPoint a, OrderPoint b) => a.CompareTo(b) > 0;
    public static bool operator <=(OrderPoint a, OrderPoint b) => a.CompareTo(b) <= 0;
    public static bool operator >=(OrderPoint a, OrderPoint b) => a.CompareTo(b) >= 0;
}

/// <summary>The order's key of a value.</summary>
public static class MagnitudeOrder
{
    /// <summary>|v| in float32 as an unsigned key whose integer order is the magnitude order.</summary>
    public static uint Key(float value) => (uint)BitConverter.SingleToInt32Bits(value) & 0x7FFF_FFFFu;

    /// <summary>The keys of <paramref name="values"/> into <paramref name="keys"/> (same length), a vector at a time.</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void Keys(ReadOnlySpan<float> values, Span<uint> keys)
    {
        if (keys.Length != values.Length) throw new ArgumentException($"{keys.Length} keys for {values.Length} values", nameof(keys));
        var bits = MemoryMarshal.Cast<float, uint>(values);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var magnitude = new Vector<uint>(0x7FFF_FFFFu);
            for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
                (new Vector<uint>(bits[i..]) & magnitude).CopyTo(keys[i..]);
        }
        for (; i < bits.Length; i++) keys[i] = bits[i] & 0x7FFF_FFFFu;
    }

    /// <summary>
    /// The keys of <c>minuend − subtrahend</c>, both given as bfloat16 bits: each widened to float32 by bits, subtracted
    /// in IEEE float32 (as a chat vector is computed), the sign cleared; one pass, no float32 array in between.
    /// </summary>
    public static void KeysOfBf16Difference(ReadOnlySpan<ushort> minuend, ReadOnlySpan<ushort> subtrahend, Span<uint> keys) =>
        Float32Conversion.SubtractBf16Bits(minuend, subtrahend, keys, mask: 0x7FFF_FFFFu);

    /// <summary>The key of a float64 vector's element: its magnitude in float32, as the rules are stated.</summary>
    public static uint Key(double value) => Key((float)value);
}
