using System.Numerics;
using System.Runtime.InteropServices;

namespace ChatVector.Core.Kernels;

/// <summary>bfloat16 to float32 by bits (the upper half of a float32 is a bfloat16: exact, as libtorch does it), a SIMD vector at a time.</summary>
public static class Float32Conversion
{
    /// <summary>
    /// Widens the bfloat16 values held in the second half of <paramref name="destination"/>'s bytes into the whole
    /// of it, in place: element i's source lies at or after the bytes element i's result is written to, and a
    /// vector's sources are loaded before its results are stored.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void WidenBf16InPlace(Span<float> destination)
    {
        var bytes = MemoryMarshal.AsBytes(destination);
        var source = MemoryMarshal.Cast<byte, ushort>(bytes[(bytes.Length / 2)..]);
        var result = MemoryMarshal.Cast<float, uint>(destination);
        int n = destination.Length, i = 0, width = Vector<ushort>.Count;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
            for (; i <= n - width; i += width)
            {
                Vector.Widen(new Vector<ushort>(source[i..]), out var low, out var high);
                (high << 16).CopyTo(result[(i + width / 2)..]);
                (low << 16).CopyTo(result[i..]);
            }
        for (; i < n; i++) result[i] = (uint)source[i] << 16;
    }

    /// <summary>bfloat16 bits widened into float32 values, from memory other than the destination's.</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void WidenBf16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"{destination.Length} results for {source.Length} values", nameof(destination));
        var result = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0, width = Vector<ushort>.Count;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
            for (; i <= source.Length - width; i += width)
            {
                Vector.Widen(new Vector<ushort>(source[i..]), out var low, out var high);
                (low << 16).CopyTo(result[i..]);
                (high << 16).CopyTo(result[(i + width / 2)..]);
            }
        for (; i < source.Length; i++) result[i] = (uint)source[i] << 16;
    }

    /// <summary>
    /// destination = widen(bfloat16 bits) − subtrahend, in IEEE float32: <see cref="WidenBf16"/> then
    /// <see cref="Subtract"/> in one walk (the same values), from the bits held in the second half of
    /// <paramref name="destination"/>'s bytes (<paramref name="bits"/> null, in place as <see cref="WidenBf16InPlace"/>)
    /// or from memory of their own.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void WidenBf16Minus(ReadOnlySpan<ushort> bits, ReadOnlySpan<float> subtrahend, Span<float> destination)
    {
        if (subtrahend.Length != destination.Length || bits.Length != destination.Length)
            throw new ArgumentException($"{destination.Length} results for {bits.Length} and {subtrahend.Length} values", nameof(destination));
        var result = MemoryMarshal.Cast<float, uint>(destination);
        int n = destination.Length, i = 0, width = Vector<ushort>.Count, half = width / 2;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
            for (; i <= n - width; i += width)
            {
                // Sources loaded before results stored: in place, element i's bits lie at or after its result's bytes.
                Vector.Widen(new Vector<ushort>(bits[i..]), out var low, out var high);
                var lowValues = Vector.AsVectorSingle(low << 16) - new Vector<float>(subtrahend[i..]);
                var highValues = Vector.AsVectorSingle(high << 16) - new Vector<float>(subtrahend[(i + half)..]);
                Vector.AsVectorUInt32(lowValues).CopyTo(result[i..]);
                Vector.AsVectorUInt32(highValues).CopyTo(result[(i + half)..]);
            }
        for (; i < n; i++) destination[i] = BitConverter.UInt32BitsToSingle((uint)bits[i] << 16) - subtrahend[i];
    }

    /// <summary><see cref="WidenBf16Minus"/> of the bits held in the second half of <paramref name="destination"/>'s bytes, in place.</summary>
    public static void WidenBf16MinusInPlace(ReadOnlySpan<float> subtrahend, Span<float> destination)
    {
        var bytes = MemoryMarshal.AsBytes(destination);
        WidenBf16Minus(MemoryMarshal.Cast<byte, ushort>(bytes[(bytes.Length / 2)..]), subtrahend, destination);
    }

    /// <summary>
    /// destination = minuend − subtrahend, both given as bfloat16 bits: widened by bits and subtracted in IEEE float32
    /// (libtorch's values for a bf16 chat vector) in one pass, no float32 copy of either side in between.
    /// </summary>
    public static void SubtractBf16(ReadOnlySpan<ushort> minuend, ReadOnlySpan<ushort> subtrahend, Span<float> destination) =>
        SubtractBf16Bits(minuend, subtrahend, MemoryMarshal.Cast<float, uint>(destination), mask: uint.MaxValue);

    /// <summary>
    /// The float32 bits of widen(minuend) − widen(subtrahend) ANDed with <paramref name="mask"/>, in one pass: all bits
    /// for the values (<see cref="SubtractBf16"/>), the sign cleared for magnitude keys.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void SubtractBf16Bits(ReadOnlySpan<ushort> minuend, ReadOnlySpan<ushort> subtrahend, Span<uint> result, uint mask)
    {
        if (minuend.Length != result.Length || subtrahend.Length != result.Length)
            throw new ArgumentException($"{result.Length} results for {minuend.Length} and {subtrahend.Length} values", nameof(result));
        int i = 0, width = Vector<ushort>.Count;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            var masks = new Vector<uint>(mask);
            for (; i <= result.Length - width; i += width)
            {
                Vector.Widen(new Vector<ushort>(minuend[i..]), out var minuendLow, out var minuendHigh);
                Vector.Widen(new Vector<ushort>(subtrahend[i..]), out var subtrahendLow, out var subtrahendHigh);
                (DifferenceBits(minuendLow, subtrahendLow) & masks).CopyTo(result[i..]);
                (DifferenceBits(minuendHigh, subtrahendHigh) & masks).CopyTo(result[(i + width / 2)..]);
            }
        }
        for (; i < result.Length; i++)
            result[i] = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle((uint)minuend[i] << 16) - BitConverter.UInt32BitsToSingle((uint)subtrahend[i] << 16)) & mask;
    }

    /// <summary>The float32 bits of widen(minuend) − widen(subtrahend), lanes holding bfloat16 bits in their low halves.</summary>
    private static Vector<uint> DifferenceBits(Vector<uint> minuendBits, Vector<uint> subtrahendBits) =>
        Vector.AsVectorUInt32(Vector.AsVectorSingle(minuendBits << 16) - Vector.AsVectorSingle(subtrahendBits << 16));

    /// <summary>destination -= subtrahend, element by element (IEEE float32, as libtorch's sub).</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void Subtract(Span<float> destination, ReadOnlySpan<float> subtrahend)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
            for (; i <= destination.Length - width; i += width)
                (new Vector<float>(destination[i..]) - new Vector<float>(subtrahend[i..])).CopyTo(destination[i..]);
        for (; i < destination.Length; i++) destination[i] -= subtrahend[i];
    }
}

/// <summary>float32 to bfloat16 bytes, rounded to nearest even as libtorch rounds them, a SIMD vector at a time.</summary>
public static class Bf16Rounding
{
    /// <summary>
    /// Writes <paramref name="values"/> rounded to bfloat16 into <paramref name="destination"/> (2 bytes each, little-endian)
    /// and returns true; returns false, having written nothing meaningful, on a big-endian machine or when the lengths
    /// disagree. Every NaN becomes <see cref="NaNBits"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static bool TryRound(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (!BitConverter.IsLittleEndian || destination.Length != values.Length * 2) return false;
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var result = MemoryMarshal.Cast<byte, ushort>(destination);
        int i = 0, width = Vector<uint>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var magnitude = new Vector<uint>(0x7FFF_FFFFu);
            var infinity = new Vector<uint>(0x7F80_0000u);
            var bias = new Vector<uint>(0x7FFFu);
            var nan = new Vector<uint>(NaNBits);
            for (; i <= bits.Length - 2 * width; i += 2 * width)
            {
                var low = new Vector<uint>(bits[i..]);
                var high = new Vector<uint>(bits[(i + width)..]);
                var lowRounded = Vector.ConditionalSelect(Vector.GreaterThan(low & magnitude, infinity), nan, Round(low, bias));
                var highRounded = Vector.ConditionalSelect(Vector.GreaterThan(high & magnitude, infinity), nan, Round(high, bias));
                Vector.Narrow(lowRounded, highRounded).CopyTo(result[i..]);
            }
        }
        for (; i < bits.Length; i++)
        {
            uint u = bits[i];
            result[i] = (u & 0x7FFF_FFFFu) > 0x7F80_0000u ? NaNBits : (ushort)((u + 0x7FFFu + ((u >> 16) & 1)) >> 16);
        }
        return true;
    }

    /// <summary>
    /// The bfloat16 written for any NaN: the bits libtorch's AVX2 and AVX-512 kernels give every NaN. Its portable
    /// kernels (a CPU without AVX2, or ATEN_CPU_CAPABILITY=default) give 0x7FC0, so a merge that left NaN to libtorch
    /// wrote different bytes on different machines; one fixed pattern here keeps the bytes of the common machines.
    /// </summary>
    public const ushort NaNBits = 0xFFFF;

    // (u + 0x7FFF + lsb) >> 16: ties go to the even bfloat16; overflow rounds up to infinity, as in libtorch.
    private static Vector<uint> Round(Vector<uint> u, Vector<uint> bias) => (u + bias + ((u >> 16) & Vector<uint>.One)) >> 16;
}
