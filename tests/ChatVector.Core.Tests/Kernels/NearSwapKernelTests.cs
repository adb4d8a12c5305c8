using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>nearswap's SIMD kernel against its element-by-element rule written out here, bit for bit.</summary>
public class NearSwapKernelTests
{
    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(12) switch
        {
            0 => 0f,
            1 => -0f,
            2 => float.NaN,
            3 => float.Epsilon * random.Next(1, 4) * (random.Next(2) == 0 ? 1 : -1),
            4 => random.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity,
            5 => (random.Next(5) - 2) / 65536f, // a few bf16 steps of a small weight: |x0 − x1| near t
            _ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 4))),
        }).ToArray();
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Theory]
    [InlineData(5, 0.001f)]
    [InlineData(64, 3e-5f)]
    [InlineData(10_007, 1e-5f)]
    [InlineData(10_007, -0.5f)] // a negative t clamps every weight to 0
    public void Nearswap_equals_its_element_by_element_rule(int length, float t)
    {
        var (x0, v) = (Values(length, 1), Values(length, 2));
        var expected = new float[length];
        for (int i = 0; i < length; i++)
        {
            float x1 = x0[i] + v[i];
            float weight = t / MathF.Abs(x0[i] - x1);
            weight = float.IsFinite(weight) ? Math.Clamp(weight, 0f, 1f) : 1f;
            expected[i] = weight * x1 + (1 - weight) * x0[i];
        }
        var actual = new float[length];
        MethodKernels.NearSwap(x0, v, t, actual);
        Assert.Equal(Bits(expected), Bits(actual));
    }
}
