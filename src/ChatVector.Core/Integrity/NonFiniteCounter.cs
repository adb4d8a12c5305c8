using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using ChatVector.Core.Format;

namespace ChatVector.Core.Integrity;

/// <summary>
/// Counts NaN and Inf values straight from a tensor's bytes by their bit patterns, so data checks work
/// without libtorch (validation must work where the tensor library does not load). The export also runs
/// it on every computed chunk, on the worker threads, so it reads whole words rather than byte pairs.
/// </summary>
public static class NonFiniteCounter
{
    public static bool Supports(DType dtype) => dtype is DType.BF16 or DType.F16 or DType.F32 or DType.F64;

    /// <summary>Adds the NaN and Inf counts of <paramref name="bytes"/> (whole elements of <paramref name="dtype"/>).</summary>
    public static (long NaN, long Inf) Count(DType dtype, ReadOnlySpan<byte> bytes)
    {
        long nan = 0, inf = 0;
        switch (dtype)
        {
            case DType.BF16: CountBits16(bytes, 0x7F80, 0x007F, ref nan, ref inf); break;
            case DType.F16: CountBits16(bytes, 0x7C00, 0x03FF, ref nan, ref inf); break;
            case DType.F32 when BitConverter.IsLittleEndian:
                foreach (uint bits in MemoryMarshal.Cast<byte, uint>(bytes[..(bytes.Length / 4 * 4)]))
                    Classify(bits, 0x7F800000u, 0x007FFFFFu, ref nan, ref inf);
                break;
            case DType.F32:
                for (int i = 0; i + 4 <= bytes.Length; i += 4)
                    Classify(BinaryPrimitives.ReadUInt32LittleEndian(bytes[i..]), 0x7F800000u, 0x007FFFFFu, ref nan, ref inf);
                break;
            case DType.F64:
                for (int i = 0; i + 8 <= bytes.Length; i += 8)
                {
                    ulong bits = BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]);
                    if ((bits & 0x7FF0000000000000ul) != 0x7FF0000000000000ul) continue;
                    if ((bits & 0x000FFFFFFFFFFFFFul) != 0) nan++; else inf++;
                }
                break;
        }
        return (nan, inf);
    }

    private static void CountBits16(ReadOnlySpan<byte> bytes, ushort exponent, ushort mantissa, ref long nan, ref long inf)
    {
        if (BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<byte, ushort>(bytes[..(bytes.Length / 2 * 2)]);
            int i = 0, width = Vector<ushort>.Count;
            if (Vector.IsHardwareAccelerated)
            {
                // A vector at a time: only one holding an all-ones exponent (rare) is classified word by word.
                var exponents = new Vector<ushort>(exponent);
                for (; i <= words.Length - width; i += width)
                {
                    var vector = new Vector<ushort>(words[i..]);
                    if (!Vector.EqualsAny(vector & exponents, exponents)) continue;
                    foreach (ushort bits in words.Slice(i, width)) Classify(bits, exponent, mantissa, ref nan, ref inf);
                }
            }
            foreach (ushort bits in words[i..]) Classify(bits, exponent, mantissa, ref nan, ref inf);
            return;
        }
        for (int i = 0; i + 2 <= bytes.Length; i += 2)
            Classify(BinaryPrimitives.ReadUInt16LittleEndian(bytes[i..]), exponent, mantissa, ref nan, ref inf);
    }

    private static void Classify(uint bits, uint exponent, uint mantissa, ref long nan, ref long inf)
    {
        if ((bits & exponent) != exponent) return;
        if ((bits & mantissa) != 0) nan++; else inf++;
    }
}
