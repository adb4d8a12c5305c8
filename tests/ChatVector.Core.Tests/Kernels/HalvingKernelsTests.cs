using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// The kernels that halve (sce's variance of two values, model_stock's pull of two models' mean) against their scalar
/// rules written out here, bit for bit: lengths with and without a scalar tail, zeros of both signs, NaN, infinities and
/// subnormals.
/// </summary>
public class HalvingKernelsTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void The_variance_of_two_equals_the_rule_with_divisions(int length)
    {
        var (a, b) = (SpecialFloats.Values(length, 31), SpecialFloats.Values(length, 32));
        var expected = new float[length];
        for (int i = 0; i < length; i++)
        {
            float sum = 0f;
            sum += a[i];
            sum += b[i];
            float mean = sum / 2, dx = a[i] - mean, dy = b[i] - mean, squares = 0f;
            squares += dx * dx;
            squares += dy * dy;
            expected[i] = squares / 2;
        }
        var actual = new float[length];
        MethodKernels.VarianceOfTwo(a, b, actual);
        Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void The_pull_of_two_models_mean_equals_the_rule_with_a_division(int length)
    {
        var (x0, d1, d2) = (SpecialFloats.Values(length, 33), SpecialFloats.Values(length, 34), SpecialFloats.Values(length, 35));
        foreach (float t in new[] { 0.3f, 1f, 0f })
        {
            float rest = 1 - t;
            var expected = new float[length];
            for (int i = 0; i < length; i++)
            {
                float sum = 0f;
                sum += x0[i] + d1[i];
                sum += x0[i] + d2[i];
                expected[i] = t * (sum / 2f) + rest * x0[i];
            }
            var actual = new float[length];
            MethodKernels.PullPairTowards(x0, d1, d2, t, actual);
            Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
        }
    }
}
