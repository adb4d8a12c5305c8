using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// Σ|x| as its definition states it (element j into partial sum j mod 8, the eight combined in one order, then the tail),
/// bit for bit: an L1 rescale's factor is made from these sums, so any other order of adds would change output bytes
/// between CPUs.
/// </summary>
public class AbsoluteSumsTests
{
    private static double ByDefinition(IReadOnlyList<double> magnitudes)
    {
        var partials = new double[8];
        int whole = magnitudes.Count / 8 * 8;
        for (int j = 0; j < whole; j++) partials[j % 8] += magnitudes[j];
        double tail = 0;
        for (int j = whole; j < magnitudes.Count; j++) tail += magnitudes[j];
        return ((partials[0] + partials[1]) + (partials[2] + partials[3])) + ((partials[4] + partials[5]) + (partials[6] + partials[7])) + tail;
    }

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        // Magnitudes over many binades (so the order of adds shows in the last bits), signs mixed, a few exact zeros.
        return Enumerable.Range(0, length)
            .Select(_ => random.Next(10) == 0 ? 0f : (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 30))))
            .ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(1_000_003)]
    public void Float32_sums_equal_the_definition_bit_for_bit(int length)
    {
        var values = Values(length, seed: length);
        Assert.Equal(ByDefinition(values.Select(v => Math.Abs((double)v)).ToList()), AbsoluteSums.Of(values));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(1_000_003)]
    public void Float64_sums_equal_the_definition_bit_for_bit(int length)
    {
        var values = Values(length, seed: length + 1).Select(v => (double)v * 1.000000119).ToArray();
        Assert.Equal(ByDefinition(values.Select(Math.Abs).ToList()), AbsoluteSums.Of(values));
    }

    [Fact]
    public void The_sum_is_the_L1_norm_to_float64_rounding()
    {
        var values = Values(100_001, seed: 3);
        decimal exact = values.Aggregate(0m, (sum, v) => sum + (decimal)Math.Abs((double)v));
        double sum = AbsoluteSums.Of(values);
        Assert.InRange(sum, (double)exact * (1 - 1e-12), (double)exact * (1 + 1e-12));
    }
}
