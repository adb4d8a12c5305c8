using System.Runtime.Intrinsics;
using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// <see cref="PortableMath"/> against the C library's exp and log (within a few units in the last place, special values
/// exactly), and against its algorithm written out here one double at a time, bit for bit: plain double arithmetic rounds
/// every step on any CPU, so equal bits here mean that the four-lane code fuses nothing and depends on no instruction set.
/// <see cref="SoftmaxDivergence"/> against the divergence summed in element order with the C library's functions, within
/// the rounding bound of the two computations, and against its lane order written out here, bit for bit.
/// </summary>
public class PortableMathTests
{
    private const double Unit = 1.0 / (1L << 52); // one unit in the last place of 1

    [Fact]
    public void Exp_is_within_four_units_of_the_C_library_s_and_exact_on_special_values()
    {
        foreach (double x in Arguments(new Random(1), -744, 709))
        {
            double expected = Math.Exp(x), actual = PortableMath.Exp(x);
            if (expected < 2.3e-308) Assert.True(Math.Abs(actual - expected) <= 4 * double.Epsilon, $"exp({x:R}): {actual:R} against {expected:R}");
            else Assert.True(Math.Abs(actual - expected) <= 4 * Unit * expected, $"exp({x:R}): {actual:R} against {expected:R}");
        }
        Assert.Equal(1.0, PortableMath.Exp(0));
        Assert.Equal(1.0, PortableMath.Exp(-0.0));
        Assert.Equal(0.0, PortableMath.Exp(double.NegativeInfinity));
        Assert.Equal(0.0, PortableMath.Exp(-1000));
        Assert.Equal(double.PositiveInfinity, PortableMath.Exp(710));
        Assert.Equal(double.PositiveInfinity, PortableMath.Exp(double.PositiveInfinity));
        Assert.True(double.IsNaN(PortableMath.Exp(double.NaN)));
    }

    [Fact]
    public void Log_is_within_four_units_of_the_C_library_s_and_exact_on_special_values()
    {
        var random = new Random(2);
        var arguments = Arguments(random, -744, 709).Select(Math.Exp)
            .Concat(Enumerable.Range(0, 2000).Select(_ => 1 + (random.NextDouble() - 0.5) * Math.Pow(10, -random.Next(1, 15)))) // ratios near 1
            .Concat([double.Epsilon, 3e-310, 2.2250738585072014e-308, double.MaxValue, Math.Sqrt(2), Math.Sqrt(0.5), 0.5, 2]);
        foreach (double x in arguments.Where(v => v > 0 && double.IsFinite(v)))
        {
            double expected = Math.Log(x), actual = PortableMath.Log(x);
            Assert.True(Math.Abs(actual - expected) <= 4 * Unit * Math.Abs(expected) + 1e-300, $"log({x:R}): {actual:R} against {expected:R}");
        }
        Assert.Equal(0.0, PortableMath.Log(1));
        Assert.Equal(double.NegativeInfinity, PortableMath.Log(0));
        Assert.Equal(double.NegativeInfinity, PortableMath.Log(-0.0));
        Assert.Equal(double.PositiveInfinity, PortableMath.Log(double.PositiveInfinity));
        Assert.True(double.IsNaN(PortableMath.Log(-1)));
        Assert.True(double.IsNaN(PortableMath.Log(double.NegativeInfinity)));
        Assert.True(double.IsNaN(PortableMath.Log(double.NaN)));
    }

    [Fact]
    public void Four_lanes_give_the_bits_of_the_algorithm_one_double_at_a_time()
    {
        var random = new Random(3);
        var exps = Arguments(random, -760, 712).Concat([double.NaN, double.NegativeInfinity, double.PositiveInfinity, 0, -0.0]).ToArray();
        var logs = exps.Select(Math.Exp).Concat([5e-324, 1e-310, 0, -0.0, -2, 1, double.NaN, 1.0000001, 0.9999999]).ToArray();
        foreach (var (values, vector, scalar) in new[] { (exps, (Func<Vector256<double>, Vector256<double>>)PortableMath.Exp, (Func<double, double>)ScalarExp), (logs, PortableMath.Log, ScalarLog) })
            for (int i = 0; i + 4 <= values.Length; i += 4)
            {
                var lanes = vector(Vector256.Create(values[i], values[i + 1], values[i + 2], values[i + 3]));
                for (int lane = 0; lane < 4; lane++)
                    Assert.True(BitConverter.DoubleToInt64Bits(scalar(values[i + lane])) == BitConverter.DoubleToInt64Bits(lanes.GetElement(lane)) || double.IsNaN(lanes.GetElement(lane)) && double.IsNaN(scalar(values[i + lane])),
                        $"{values[i + lane]:R}: lane {lanes.GetElement(lane):R}, one at a time {scalar(values[i + lane]):R}");
            }
    }

    [Fact]
    public void The_shorter_exp_and_log_give_the_general_ones_bits_where_they_apply()
    {
        var random = new Random(4);
        var low = Enumerable.Range(0, 4000).Select(_ => PortableMath.InRangeLow * random.NextDouble())
            .Concat([PortableMath.InRangeLow, 0, -0.0, -1e-300, -Math.Log(2) / 2]).ToArray();
        var nearOne = Enumerable.Range(0, 4000).Select(_ => Math.Sqrt(0.5) + random.NextDouble() * (Math.Sqrt(2) - Math.Sqrt(0.5)))
            .Concat([Math.Sqrt(2), BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(Math.Sqrt(0.5)) + 1), 1, 1 - 1e-16, 1 + 2e-16]).ToArray();
        foreach (double x in low)
            Assert.Equal(BitConverter.DoubleToInt64Bits(PortableMath.Exp(x)), BitConverter.DoubleToInt64Bits(PortableMath.ExpInRange(Vector256.Create(x)).GetElement(0)));
        foreach (double x in nearOne)
        {
            Assert.True(PortableMath.IsNearOne(Vector256.Create(x)), $"{x:R} is near one");
            Assert.Equal(BitConverter.DoubleToInt64Bits(PortableMath.Log(x)), BitConverter.DoubleToInt64Bits(PortableMath.LogNearOne(Vector256.Create(x)).GetElement(0)));
        }
        Assert.False(PortableMath.IsNearOne(Vector256.Create(1, 1, 1, Math.Sqrt(0.5))));
        Assert.False(PortableMath.IsNearOne(Vector256.Create(1, 1, double.NaN, 1)));
        Assert.False(PortableMath.IsNearOne(Vector256.Create(1.5, 1, 1, 1)));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(4_099)]
    [InlineData(11_008)]
    public void Divergence_is_the_float64_sum_within_its_rounding_and_the_lane_order_bit_for_bit(int length)
    {
        // A bf16 model's row and a fine-tune's change of a few bf16 steps.
        var random = new Random(length);
        var x0 = Enumerable.Range(0, length).Select(_ => Bf16((float)(Gaussian(random) * 0.02))).ToArray();
        var delta = x0.Select(v => Bf16(v + (float)(random.Next(-3, 4) * Math.Max(Math.Abs(v), 1e-4) / 128)) - v).ToArray();
        double actual = SoftmaxDivergence.Of(x0, delta, 1e-8, new double[length], new double[length]);

        // In element order with the C library's exp and log.
        double maxP = Enumerable.Range(0, length).Max(j => (double)(x0[j] + delta[j])), maxQ = x0.Max();
        double sumP = Enumerable.Range(0, length).Sum(j => Math.Exp(x0[j] + delta[j] - maxP)), sumQ = x0.Sum(v => Math.Exp(v - maxQ));
        double expected = 0, magnitudes = 0;
        for (int j = 0; j < length; j++)
        {
            double p = Math.Exp(x0[j] + delta[j] - maxP) / sumP + 1e-8, q = Math.Exp(x0[j] - maxQ) / sumQ + 1e-8;
            expected += p * Math.Log(p / q);
            magnitudes += p * (Math.Abs(Math.Log(p / q)) + 1);
        }
        // Both sums round each of n terms' exp, division and log, and n additions: far below n units of Σ p·(|log| + 1).
        Assert.True(Math.Abs(actual - expected) <= length * Unit * magnitudes, $"{actual:R} against {expected:R}");
        Assert.True(actual > 0);

        // The lane order written out: element j in lane j mod 4, lanes (0 + 1) + (2 + 3), each sum's reciprocal.
        var expP = new double[length];
        var expQ = new double[length];
        var lanesP = new double[4];
        var lanesQ = new double[4];
        for (int j = 0; j < length; j++)
        {
            lanesP[j % 4] += expP[j] = ScalarExp((double)(x0[j] + delta[j]) - (double)MaxOf(x0, delta, sum: true));
            lanesQ[j % 4] += expQ[j] = ScalarExp((double)x0[j] - (double)MaxOf(x0, delta, sum: false));
        }
        double inverseP = 1 / ((lanesP[0] + lanesP[1]) + (lanesP[2] + lanesP[3])), inverseQ = 1 / ((lanesQ[0] + lanesQ[1]) + (lanesQ[2] + lanesQ[3]));
        var lanes = new double[4];
        for (int j = 0; j < length; j++)
        {
            double p = expP[j] * inverseP + 1e-8, q = expQ[j] * inverseQ + 1e-8;
            lanes[j % 4] += p * ScalarLog(p / q);
        }
        Assert.Equal(BitConverter.DoubleToInt64Bits((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])), BitConverter.DoubleToInt64Bits(actual));
    }

    private static float MaxOf(float[] x0, float[] delta, bool sum) => Enumerable.Range(0, x0.Length).Max(j => sum ? x0[j] + delta[j] : x0[j]);

    /// <summary>Arguments across the range, and many near 0, where the merges' softmax exponents lie.</summary>
    private static IEnumerable<double> Arguments(Random random, double low, double high) =>
        Enumerable.Range(0, 4000).Select(_ => low + random.NextDouble() * (high - low))
            .Concat(Enumerable.Range(0, 4000).Select(_ => -random.NextDouble() * 3))
            .Concat(Enumerable.Range(0, 200).Select(_ => (random.NextDouble() - 0.5) * 1e-9));

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static float Bf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return BitConverter.UInt32BitsToSingle((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000u);
    }

    // PortableMath's algorithm, one double at a time (its comments say why each step is as it is): Taylor series in
    // Estrin's order.
    private static double ScalarExp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709.782712893384) return double.PositiveInfinity;
        double clamped = Math.Max(x, -800);
        const double shift = 6755399441055744.0;
        double n = clamped * 1.4426950408889634 + shift - shift;
        double r = clamped - n * 0.693147180369123816490 - n * 1.90821492927058770002e-10;
        double[] c = Enumerable.Range(0, 14).Select(InverseFactorial).ToArray();
        double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
        double low = ((c[1] * r + c[0]) + (c[3] * r + c[2]) * r2) + ((c[5] * r + c[4]) + (c[7] * r + c[6]) * r2) * r4;
        double high = ((c[9] * r + c[8]) + (c[11] * r + c[10]) * r2) + (c[13] * r + c[12]) * r4;
        double series = low + high * r8;
        double half = Math.Floor(n * 0.5);
        return series * Math.ScaleB(1, (int)half) * Math.ScaleB(1, (int)(n - half));
    }

    private static double ScalarLog(double x)
    {
        if (double.IsNaN(x) || x < 0) return double.NaN;
        if (x == 0) return double.NegativeInfinity;
        if (double.IsPositiveInfinity(x)) return x;
        double e = 0;
        if (x < 2.2250738585072014e-308) { x *= 18014398509481984.0; e = -54; }
        long bits = BitConverter.DoubleToInt64Bits(x);
        e += ((bits >> 52) & 0x7FF) - 1023;
        double m = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m > Math.Sqrt(2)) { m *= 0.5; e += 1; }
        double f = m - 1, s = f / (2 + f), z = s * s;
        double[] l = Enumerable.Range(0, 12).Select(k => 1.0 / (2 * k + 1)).ToArray();
        double z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
        double low = ((l[1] * z + l[0]) + (l[3] * z + l[2]) * z2) + ((l[5] * z + l[4]) + (l[7] * z + l[6]) * z2) * z4;
        double high = (l[9] * z + l[8]) + (l[11] * z + l[10]) * z2;
        double series = low + high * z8;
        return e * 0.693147180369123816490 + (2 * s * series + e * 1.90821492927058770002e-10);
    }

    private static double InverseFactorial(int k)
    {
        double factorial = 1;
        for (int i = 2; i <= k; i++) factorial *= i;
        return 1 / factorial;
    }
}
