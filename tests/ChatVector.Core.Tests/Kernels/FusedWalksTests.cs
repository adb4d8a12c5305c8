using System.Runtime.InteropServices;
using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// The config methods' one-walk kernels give the bytes of the separate walks they replace (each element's float32
/// operations in the same order), on lengths with and without a scalar tail and on signed zeros.
/// </summary>
public class FusedWalksTests
{
    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length)
            .Select(_ => random.Next(8) switch { 0 => 0f, 1 => -0f, _ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20))) })
            .ToArray();
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void Two_models_pulled_towards_the_base_in_one_walk_equal_the_separate_walks(int length)
    {
        var (x0, d1, d2) = (Values(length, 1), Values(length, 2), Values(length, 3));
        const float t = 0.8317f;
        var separate = new float[length];
        MethodKernels.AddSum(separate, x0, d1);
        MethodKernels.AddSum(separate, x0, d2);
        MethodKernels.PullTowards(separate, t, 2, x0);
        var fused = new float[length];
        MethodKernels.PullPairTowards(x0, d1, d2, t, fused);
        Assert.Equal(Bits(separate), Bits(fused));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void Two_scaled_vectors_added_in_one_walk_equal_the_separate_walks(int length)
    {
        var (x0, d1, d2) = (Values(length, 4), Values(length, 5), Values(length, 6));
        var separate = (float[])x0.Clone();
        MethodKernels.AddScaled(separate, 0.61f, d1);
        MethodKernels.AddScaled(separate, -1.37f, d2);
        var fused = new float[length];
        MethodKernels.AddTwoScaled(x0, 0.61f, d1, -1.37f, d2, fused);
        Assert.Equal(Bits(separate), Bits(fused));
    }
    private static ushort[] Bf16Bits(int length, int seed)
    {
        var random = new Random(seed);
        // Every bit pattern but NaNs' (whose payloads a subtraction may change): zeros of both signs, subnormals, infinities.
        return Enumerable.Range(0, length).Select(_ =>
        {
            ushort bits;
            do bits = (ushort)random.Next(0x10000); while ((bits & 0x7F80) == 0x7F80 && (bits & 0x7F) != 0);
            return bits;
        }).ToArray();
    }

    private static float[] WidenedThenSubtracted(ushort[] bits, float[] subtrahend)
    {
        var values = bits.Select(b => BitConverter.UInt32BitsToSingle((uint)b << 16)).ToArray();
        for (int i = 0; i < values.Length; i++) values[i] -= subtrahend[i];
        return values;
    }

    [Theory]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(10_009)]
    public void Bf16_widened_and_subtracted_in_one_walk_equal_the_widening_then_the_subtraction(int length)
    {
        var bits = Bf16Bits(length, seed: length);
        var subtrahend = Values(length, seed: length + 7);
        var expected = Bits(WidenedThenSubtracted(bits, subtrahend));

        var fromOwnMemory = new float[length];
        Float32Conversion.WidenBf16Minus(bits, subtrahend, fromOwnMemory);
        Assert.Equal(expected, Bits(fromOwnMemory));

        // In place: the bits in the second half of the destination's bytes, as a file read leaves them.
        var inPlace = new float[length];
        var bytes = MemoryMarshal.AsBytes(inPlace.AsSpan());
        MemoryMarshal.AsBytes(bits.AsSpan()).CopyTo(bytes[(bytes.Length / 2)..]);
        Float32Conversion.WidenBf16MinusInPlace(subtrahend, inPlace);
        Assert.Equal(expected, Bits(inPlace));
    }
}
