using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ChatVector.TestKit.Independent;

namespace ChatVector.TestKit;

/// <summary>The little-endian data bytes of a tensor's values, as safetensors stores them.</summary>
public static class TensorBytes
{
    static TensorBytes()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian");
    }

    public static byte[] F32(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>bfloat16, each value rounded to nearest even (<see cref="Bf16.FromFloat"/>).</summary>
    public static byte[] Bf16(float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), Independent.Bf16.FromFloat(values[i]));
        return bytes;
    }
}
