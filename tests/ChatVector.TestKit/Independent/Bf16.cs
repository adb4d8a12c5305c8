using System.Buffers.Binary;

namespace ChatVector.TestKit.Independent;

/// <summary>bfloat16 by bit manipulation: the upper half of a float32, rounded to nearest even.</summary>
public static class Bf16
{
    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static float ToFloat(ReadOnlySpan<byte> twoBytes) => ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(twoBytes));

    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>Distance in bf16 units in the last place between two bf16 values of the same sign (or both near zero).</summary>
    public static int UlpDistance(ushort a, ushort b)
    {
        static int Ordered(ushort v) => (v & 0x8000) != 0 ? -(v & 0x7FFF) : v;
        return Math.Abs(Ordered(a) - Ordered(b));
    }
}
