using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>nearswap's SIMD kernel against its element-by-element rule written out here, bit for bit.</summary>
public class NearSwapKernelTests
{
    [Theory]
    [InlineData(5, 0.001f)]
    [InlineData(64, 3e-5f)]
    [InlineData(10_007, 1e-5f)]
    [InlineData(10_007, -0.5f)] // a negative t clamps every weight to 0
    public void Nearswap_equals_its_element_by_element_rule(int length, float t)
    {
        var (x0, v) = (SpecialFloats.Values(length, 1), SpecialFloats.Values(length, 2));
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
        Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
    }
}
