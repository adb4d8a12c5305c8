using System.Runtime.InteropServices;

namespace ChatVector.Core.Tests;

/// <summary>Little-endian element bytes of plain arrays (the machine's own layout, checked), for hand-built files.</summary>
internal static class ValueBytes
{
    static ValueBytes()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian");
    }

    public static byte[] Of(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    public static byte[] Of(double[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    public static byte[] Of(Half[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>bfloat16 as the upper half of float32's bits (exact for the values the tests use).</summary>
    public static byte[] Bf16Of(float[] values) =>
        MemoryMarshal.AsBytes(values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray().AsSpan()).ToArray();
}
