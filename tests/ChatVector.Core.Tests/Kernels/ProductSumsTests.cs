using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// The float64 product sums of the config methods' statistics (MethodKernels.AddProducts) are the element-by-element
/// loop's: each product added one at a time, in element order, onto the sum so far, bit for bit. Their SIMD products
/// must not reorder or pair the additions, or a merge's bytes would change with the CPU.
/// </summary>
public class ProductSumsTests
{
    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        // Magnitudes over many binades (so any other order of adds shows in the last bits), signs mixed, a few zeros.
        return Enumerable.Range(0, length)
            .Select(_ => random.Next(10) == 0 ? 0f : (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 30))))
            .ToArray();
    }

    private static double ElementByElement(double sum, float[] x, float[] y)
    {
        for (int i = 0; i < x.Length; i++) sum = sum + (double)x[i] * (double)y[i];
        return sum;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(100_003)]
    public void Three_sums_equal_the_element_by_element_loop_bit_for_bit(int length)
    {
        var a = Values(length, seed: length);
        var b = Values(length, seed: length + 1);
        var (aa, bb, ab) = MethodKernels.AddProducts(0.1, -2.5, 1e-3, a, b);
        Assert.Equal(BitConverter.DoubleToInt64Bits(ElementByElement(0.1, a, a)), BitConverter.DoubleToInt64Bits(aa));
        Assert.Equal(BitConverter.DoubleToInt64Bits(ElementByElement(-2.5, b, b)), BitConverter.DoubleToInt64Bits(bb));
        Assert.Equal(BitConverter.DoubleToInt64Bits(ElementByElement(1e-3, a, b)), BitConverter.DoubleToInt64Bits(ab));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(100_005)]
    public void One_sum_equals_the_element_by_element_loop_bit_for_bit(int length)
    {
        var x = Values(length, seed: 2 * length);
        var y = Values(length, seed: 2 * length + 1);
        Assert.Equal(BitConverter.DoubleToInt64Bits(ElementByElement(3.75, x, y)), BitConverter.DoubleToInt64Bits(MethodKernels.AddProducts(3.75, x, y)));
    }

    [Fact]
    public void Paired_additions_would_differ_on_these_values()
    {
        // The inputs are such that adding in another order changes the bits, so the tests above can fail.
        var x = Values(100_003, seed: 100_003);
        double pairwise = 0;
        for (int i = 0; i + 1 < x.Length; i += 2) pairwise += (double)x[i] * x[i] + (double)x[i + 1] * x[i + 1];
        pairwise += (double)x[^1] * x[^1];
        Assert.NotEqual(ElementByElement(0, x, x), pairwise);
    }
}
