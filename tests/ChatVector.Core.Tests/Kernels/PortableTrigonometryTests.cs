using System.IO.Hashing;
using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// <see cref="PortableTrigonometry"/> against the C library's sin, cos and acos (within a few units in the last place,
/// special values exactly), against identities that tie the three together, and against a checksum of its outputs
/// recorded when it was written: the bits are meant to be the same on every CPU and OS, so a machine of another kind
/// running this suite (CI's fresh CPU, another instruction set) checks that claim.
/// </summary>
public class PortableTrigonometryTests
{
    private const double Unit = 1.0 / (1L << 52); // one unit in the last place of 1

    [Fact]
    public void Sin_and_cos_are_within_a_few_units_of_the_C_library_s()
    {
        foreach (double x in Angles(new Random(1)))
        {
            AssertClose(Math.Sin(x), PortableTrigonometry.Sin(x), $"sin({x:R})");
            AssertClose(Math.Cos(x), PortableTrigonometry.Cos(x), $"cos({x:R})");
        }
    }

    [Fact]
    public void Acos_is_within_a_few_units_of_the_C_library_s_across_the_half_angle_boundaries()
    {
        var random = new Random(2);
        var cosines = Enumerable.Range(0, 20_000).Select(_ => random.NextDouble() * 2 - 1)
            .Concat(Enumerable.Range(0, 2000).Select(_ => 1 - Math.Pow(10, -random.NextDouble() * 16))) // nearly colinear
            .Concat(Enumerable.Range(0, 2000).Select(_ => -1 + Math.Pow(10, -random.NextDouble() * 16)))
            .Concat([0.5, -0.5, Next(0.5), Previous(0.5), Next(-0.5), Previous(-0.5), 0, -0.0, 1, -1, Previous(1), Next(-1), 1e-300, 0.9995, -0.9995]);
        foreach (double x in cosines) AssertClose(Math.Acos(x), PortableTrigonometry.Acos(x), $"acos({x:R})");
    }

    [Fact]
    public void Special_values_are_those_of_IEEE_754()
    {
        Assert.Equal(0.0, PortableTrigonometry.Acos(1));
        Assert.Equal(Math.PI, PortableTrigonometry.Acos(-1));
        Assert.Equal(Math.PI / 2, PortableTrigonometry.Acos(0));
        foreach (double outside in new[] { Next(1), -1.5, double.PositiveInfinity, double.NaN })
            Assert.True(double.IsNaN(PortableTrigonometry.Acos(outside)), $"acos({outside:R})");
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(PortableTrigonometry.Sin(-0.0)));
        Assert.Equal(0.0, PortableTrigonometry.Sin(0));
        Assert.Equal(1.0, PortableTrigonometry.Cos(0));
        Assert.Equal(1.0, PortableTrigonometry.Cos(-0.0));
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            Assert.True(double.IsNaN(PortableTrigonometry.Sin(bad)));
            Assert.True(double.IsNaN(PortableTrigonometry.Cos(bad)));
        }
        // Past the exact reduction (rounding noise can make such an angle): reduced by the double 2π, never a throw.
        foreach (double huge in new[] { 1e10, -3.3e8, 1e300 })
        {
            Assert.Equal(PortableTrigonometry.Sin(huge % 6.283185307179586), PortableTrigonometry.Sin(huge));
            Assert.Equal(PortableTrigonometry.Cos(huge % 6.283185307179586), PortableTrigonometry.Cos(huge));
        }
    }

    [Fact]
    public void The_three_agree_with_each_other()
    {
        var random = new Random(3);
        for (int i = 0; i < 20_000; i++)
        {
            double theta = random.NextDouble() * Math.PI;
            double sin = PortableTrigonometry.Sin(theta), cos = PortableTrigonometry.Cos(theta);
            Assert.True(Math.Abs(sin * sin + cos * cos - 1) <= 4 * Unit, $"sin² + cos² at {theta:R}");
            // acos(cos θ) = θ up to cos's rounding, magnified by 1/|sin θ|.
            double back = PortableTrigonometry.Acos(cos);
            Assert.True(Math.Abs(back - theta) <= 4 * Unit * (theta + 1 / Math.Max(Math.Abs(sin), 1e-8)), $"acos(cos {theta:R}) = {back:R}");
            // sin(π − θ) = sin θ, the slerp weights' symmetry, to the rounding of π − θ.
            Assert.True(Math.Abs(PortableTrigonometry.Sin(Math.PI - theta) - sin) <= 4 * Unit, $"sin(π − {theta:R})");
        }
    }

    [Fact]
    public void Outputs_have_the_bits_recorded_when_this_was_written()
    {
        // 30,000 arguments of each function, from a seeded generator of IEEE arithmetic only; the CRC of their bits.
        var random = new Random(4);
        var crc = new Crc64();
        Span<byte> bits = stackalloc byte[8];
        for (int i = 0; i < 30_000; i++)
        {
            double angle = (random.NextDouble() - 0.5) * 20, cosine = random.NextDouble() * 2 - 1;
            foreach (double value in new[] { PortableTrigonometry.Sin(angle), PortableTrigonometry.Cos(angle), PortableTrigonometry.Acos(cosine) })
            {
                BitConverter.TryWriteBytes(bits, BitConverter.DoubleToInt64Bits(value));
                crc.Append(bits);
            }
        }
        Assert.Equal(RecordedChecksum, crc.GetCurrentHashAsUInt64());
    }

    private const ulong RecordedChecksum = 15301830294560627193;

    private static void AssertClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(actual - expected) <= 4 * Unit * Math.Abs(expected) + 1e-300, $"{what}: {actual:R} against {expected:R}");

    /// <summary>Across several turns either way, densely over [0, π] (the merges' angles), near the quadrants' edges and near 0.</summary>
    private static IEnumerable<double> Angles(Random random) =>
        Enumerable.Range(0, 20_000).Select(_ => (random.NextDouble() - 0.5) * 40)
            .Concat(Enumerable.Range(0, 20_000).Select(_ => random.NextDouble() * Math.PI))
            .Concat(Enumerable.Range(-8, 17).SelectMany(k => Enumerable.Range(0, 200).Select(_ => k * Math.PI / 4 + (random.NextDouble() - 0.5) * 1e-6)))
            .Concat(Enumerable.Range(0, 200).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(10, -random.Next(1, 300))))
            .Concat([Math.PI, Math.PI / 2, -Math.PI / 2, 1e5, -1e5, 1e6, 1.6e6]);

    private static double Next(double x) => Math.BitIncrement(x);

    private static double Previous(double x) => Math.BitDecrement(x);
}
