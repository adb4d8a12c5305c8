using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// <see cref="LaneSums"/> against its order of operations written out here one double at a time, bit for bit (plain
/// double arithmetic rounds every step on any CPU, so equal bits here mean that the vector code fuses nothing and
/// depends on no instruction set), with special floats and lengths with and without a last partial group; and against
/// the element-order sum within the bound of their rounding.
/// </summary>
public class LaneSumsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void Every_form_gives_the_bits_of_eight_lanes_added_in_their_fixed_order(int length)
    {
        var (a, b, @base) = (SpecialFloats.Values(length, 11), SpecialFloats.Values(length, 12), SpecialFloats.Values(length, 13));
        foreach (var (form, x, y) in new[]
                 {
                     ("as given", a, b),
                     ("base added", a.Select((v, i) => @base[i] + v).ToArray(), b.Select((v, i) => @base[i] + v).ToArray()),
                     ("second adds first", a, a.Select((v, i) => v + b[i]).ToArray()),
                 })
        {
            var (aa, bb, ab) = form switch
            {
                "as given" => LaneSums.Products<LaneSums.AsGiven>(a, b),
                "base added" => LaneSums.Products<LaneSums.BaseAdded>(a, b, @base),
                _ => LaneSums.Products<LaneSums.SecondAddsFirst>(a, b),
            };
            double single = form switch
            {
                "as given" => LaneSums.Product<LaneSums.AsGiven>(a, b),
                "base added" => LaneSums.Product<LaneSums.BaseAdded>(a, b, @base),
                _ => LaneSums.Product<LaneSums.SecondAddsFirst>(a, b),
            };
            AssertSameBits(InLanes(x, x), aa, $"{form} Σ a·a");
            AssertSameBits(InLanes(y, y), bb, $"{form} Σ b·b");
            AssertSameBits(InLanes(x, y), ab, $"{form} Σ a·b");
            AssertSameBits(InLanes(x, y), single, $"{form} Σ a·b alone");
        }
        // Three tensors' six sums in one walk.
        var c = SpecialFloats.Values(length, 14);
        foreach (var (form, x, y, z) in new[]
                 {
                     ("as given", a, b, c),
                     ("base added", a.Select((v, i) => @base[i] + v).ToArray(), b.Select((v, i) => @base[i] + v).ToArray(), c.Select((v, i) => @base[i] + v).ToArray()),
                 })
        {
            var sums = form == "as given" ? LaneSums.ProductsOfThree<LaneSums.AsGiven>(a, b, c) : LaneSums.ProductsOfThree<LaneSums.BaseAdded>(a, b, c, @base);
            AssertSameBits(InLanes(x, x), sums.AA, $"{form} Σ a·a of three");
            AssertSameBits(InLanes(y, y), sums.BB, $"{form} Σ b·b of three");
            AssertSameBits(InLanes(z, z), sums.CC, $"{form} Σ c·c of three");
            AssertSameBits(InLanes(x, y), sums.AB, $"{form} Σ a·b of three");
            AssertSameBits(InLanes(x, z), sums.AC, $"{form} Σ a·c of three");
            AssertSameBits(InLanes(y, z), sums.BC, $"{form} Σ b·c of three");
        }
    }

    [Fact]
    public void Lane_sums_are_the_element_order_sums_within_their_rounding()
    {
        var random = new Random(14);
        var a = Enumerable.Range(0, 100_003).Select(_ => (float)((random.NextDouble() - 0.5) * 0.04)).ToArray();
        var b = a.Select(v => v + (float)((random.NextDouble() - 0.5) * 1e-4)).ToArray();
        var (aa, bb, ab) = LaneSums.Products<LaneSums.AsGiven>(a, b);
        double expectedAB = 0, magnitude = 0;
        for (int i = 0; i < a.Length; i++)
        {
            expectedAB += (double)a[i] * b[i];
            magnitude += Math.Abs((double)a[i] * b[i]);
        }
        // Either order rounds each of n additions by at most half a unit of the running sum: n units of Σ|terms| bound both.
        Assert.True(Math.Abs(ab - expectedAB) <= a.Length * Math.Pow(2, -52) * magnitude, $"{ab:R} against {expectedAB:R}");
        Assert.True(aa > 0 && bb > 0);
        Assert.Throws<ArgumentException>(() => LaneSums.Products<LaneSums.AsGiven>(a, b.AsSpan(1)));
    }

    /// <summary>Element i in lane i mod 8 (a last partial group padded with zeros, whose products add exactly 0), lanes ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)).</summary>
    private static double InLanes(float[] x, float[] y)
    {
        var lanes = new double[8];
        for (int i = 0; i < x.Length; i++) lanes[i % 8] += (double)x[i] * y[i];
        for (int lane = x.Length % 8; x.Length % 8 != 0 && lane < 8; lane++) lanes[lane] += 0.0 * 0.0;
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }

    private static void AssertSameBits(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual) || double.IsNaN(expected) && double.IsNaN(actual),
            $"{what}: {actual:R}, written out {expected:R}");
}
