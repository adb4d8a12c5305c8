using System.Numerics;

namespace ChatVector.Core.Tests;

/// <summary>
/// Whether a float is a·b + c rounded once to nearest (ties to even), decided in exact integer arithmetic, so the
/// expectation shares no floating-point operation with the code under test and holds on any CPU.
/// </summary>
internal static class ExactRounding
{
    /// <summary>True when <paramref name="actual"/> is the float32 nearest to a·b + c (all finite).</summary>
    public static bool IsFusedSingle(float actual, float a, float b, float c) =>
        IsNearest(actual, MathF.BitDecrement(actual), MathF.BitIncrement(actual), BitConverter.SingleToUInt32Bits(actual) % 2 == 0, a, b, c);

    /// <summary>True when <paramref name="actual"/> is the float64 nearest to a·b + c (all finite).</summary>
    public static bool IsFusedDouble(double actual, double a, double b, double c) =>
        IsNearest(actual, Math.BitDecrement(actual), Math.BitIncrement(actual), BitConverter.DoubleToUInt64Bits(actual) % 2 == 0, a, b, c);

    /// <summary>No neighbour is nearer to the exact value than <paramref name="actual"/>; an equally near one means a tie, won by the even one.</summary>
    private static bool IsNearest(double actual, double below, double above, bool actualIsEven, double a, double b, double c)
    {
        var (ma, ea) = Exact(a);
        var (mb, eb) = Exact(b);
        var (mc, ec) = Exact(c);
        var candidates = new[] { actual, below, above }.Select(Exact).ToArray();
        int e = Math.Min(Math.Min(ea + eb, ec), candidates.Min(x => x.Exponent));
        var exact = (ma * mb << (ea + eb - e)) + (mc << (ec - e));
        var distances = candidates.Select(x => BigInteger.Abs((x.Mantissa << (x.Exponent - e)) - exact)).ToArray();
        return distances[0] < distances[1] && distances[0] < distances[2]
            || (distances[0] <= distances[1] && distances[0] <= distances[2] && actualIsEven);
    }

    /// <summary>A finite double (a float widens to one exactly) as mantissa·2^exponent.</summary>
    private static (BigInteger Mantissa, int Exponent) Exact(double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"{value} is not finite");
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xF_FFFF_FFFF_FFFF;
        long mantissa = biased == 0 ? fraction : fraction | (1L << 52);
        int exponent = (biased == 0 ? 1 : biased) - 1075;
        return (bits < 0 ? -mantissa : mantissa, exponent);
    }
}
