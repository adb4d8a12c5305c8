using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// karcher's weighted sum of three models in one walk against its element-by-element rule written out here (a cleared
/// sum plus k·(x0 + v) for each model in turn, in float32), bit for bit: lengths with and without a scalar tail, zeros of
/// both signs, NaN, infinities and subnormals.
/// </summary>
public class ScaledSumsKernelTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void Three_scaled_sums_in_one_walk_equal_the_element_by_element_rule(int length)
    {
        var (x0, v0, v1, v2) = (SpecialFloats.Values(length, 21), SpecialFloats.Values(length, 22), SpecialFloats.Values(length, 23), SpecialFloats.Values(length, 24));
        foreach (var (k0, k1, k2) in new[] { (0.25f, 0.5f, 0.25f), (-1.5f, 0f, 3e-20f), (float.MaxValue, -2f, 1f) })
        {
            var expected = new float[length];
            for (int i = 0; i < length; i++)
            {
                float sum = 0f;
                sum += k0 * (x0[i] + v0[i]);
                sum += k1 * (x0[i] + v1[i]);
                sum += k2 * (x0[i] + v2[i]);
                expected[i] = sum;
            }
            var actual = new float[length];
            MethodKernels.ScaledSumsOfThree(actual, k0, k1, k2, x0, v0, v1, v2);
            Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
        }
    }
}
