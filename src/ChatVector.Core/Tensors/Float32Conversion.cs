using System.Numerics;
using System.Runtime.InteropServices;

namespace ChatVector.Core.Tensors;

/// <summary>bfloat16 to float32 by bits (the upper half of a float32 is a bfloat16: exact, as libtorch does it), a SIMD vector at a time.</summary>
public static class Float32Conversion
{
    /// <summary>
    /// Widens the bfloat16 values held in the second half of <paramref name="destination"/>'s bytes into the whole
    /// of it, in place: element i's source lies at or after the bytes element i's result is written to, and a
    /// vector's sources are loaded before its results are stored.
    /// </summary>
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

    /// <summary>destination -= subtrahend, element by element (IEEE float32, as libtorch's sub).</summary>
    public static void Subtract(Span<float> destination, ReadOnlySpan<float> subtrahend)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
            for (; i <= destination.Length - width; i += width)
                (new Vector<float>(destination[i..]) - new Vector<float>(subtrahend[i..])).CopyTo(destination[i..]);
        for (; i < destination.Length; i++) destination[i] -= subtrahend[i];
    }
}
