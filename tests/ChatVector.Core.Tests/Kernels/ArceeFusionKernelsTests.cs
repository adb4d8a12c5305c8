using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// arcee_fusion's SIMD kernels against its element-by-element rules written out here, bit for bit: lengths with and
/// without a scalar tail, zeros of both signs, NaN, infinities, subnormals and products that overflow float32.
/// </summary>
public class ArceeFusionKernelsTests
{
    [Theory]
    [InlineData(5, 3.7e-7)]
    [InlineData(64, 1.000000001)]
    [InlineData(10_007, 12345.678)]
    public void Magnitudes_scaled_in_float64_and_rounded_once_equal_the_element_by_element_rule(int length, double factor)
    {
        var values = SpecialFloats.Values(length, length);
        var expected = values.Select(v => (float)(Math.Abs((double)v) * factor)).ToArray();
        var actual = new float[length];
        MethodKernels.ScaledMagnitudes(values, factor, actual);
        Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void Changes_whose_score_reaches_the_threshold_are_added_the_others_dropped(int length)
    {
        var (x0, delta, scores) = (SpecialFloats.Values(length, 1), SpecialFloats.Values(length, 2), SpecialFloats.Values(length, 3));
        var finite = scores.Where(float.IsFinite).Order().ToArray();
        float threshold = finite.Length == 0 ? 0f : finite[finite.Length / 2]; // the middle finite score
        var expected = Enumerable.Range(0, length).Select(i => scores[i] >= threshold ? x0[i] + delta[i] : x0[i]).ToArray();
        var actual = (float[])scores.Clone();
        MethodKernels.AddWhereScoreReaches(x0, delta, threshold, actual);
        Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(4_099)]
    public void Row_maxima_equal_a_chain_of_Math_Max(int length)
    {
        var random = new Random(length);
        var x0 = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * 4)).ToArray();
        var delta = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * 0.01)).ToArray();
        foreach (var (x, d) in new[] { (x0, delta), (WithValue(x0, length / 2, float.NaN), delta), (x0, WithValue(delta, length - 1, float.NaN)) })
        {
            double expectedSum = double.NegativeInfinity, expectedBase = double.NegativeInfinity;
            for (int j = 0; j < length; j++)
            {
                expectedSum = Math.Max(expectedSum, x[j] + d[j]);
                expectedBase = Math.Max(expectedBase, x[j]);
            }
            var (maxSum, maxBase) = MethodKernels.Maxima(x, d);
            Assert.Equal(expectedSum, maxSum); // xunit's equality takes NaN as equal to NaN
            Assert.Equal(expectedBase, maxBase);
        }
    }

    private static float[] WithValue(float[] values, int index, float value)
    {
        var copy = (float[])values.Clone();
        copy[index] = value;
        return copy;
    }
}
