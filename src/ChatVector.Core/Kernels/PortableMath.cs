using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ChatVector.Core.Kernels;

/// <summary>
/// exp and log of doubles, four at a time, with the same bits on every x86-64 CPU, from nothing but IEEE 754 adds,
/// multiplies, divides, floors and bit moves, each rounded on its own (the JIT never fuses a multiply and an add
/// unless asked; on a CPU without AVX2 the same operations run emulated, lane by lane, to the same bits).
/// Why not <see cref="Math.Exp"/> and <see cref="Math.Log"/>: they call the C library, which picks a variant per CPU
/// (glibc's FMA ones on CPUs that have FMA) and computes one value at a time; .NET's <c>Vector256.Exp</c>/<c>Log</c>
/// use fused multiply-adds where the CPU has them, so their last bits change with the instruction set. Accuracy: a few
/// units in the last place (range reduction by ln 2 in two parts, then Taylor series long enough that their
/// truncation is below one unit, evaluated by Estrin's scheme).
/// </summary>
public static class PortableMath
{
    // ln 2 split in two: a head of 32 significant bits, so that n·head is exact for the |n| < 2^20 used here, and the
    // rest (ln 2 − head, from ln 2 = 0.693147180559945309417232121458...).
    private const double Ln2Head = 0.693147180369123816490; // 0x3FE62E42FEE00000
    private const double Ln2Tail = 1.90821492927058770002e-10;
    private const double Log2E = 1.4426950408889634; // 1 / ln 2, rounded
    // Adding 1.5·2^52 rounds a double of magnitude below 2^51 to an integer (to nearest, ties to even), which then sits
    // in the low bits of the sum's representation.
    private const double RoundingShift = 6755399441055744.0;
    private const double ExpOverflow = 709.782712893384; // ln(double.MaxValue)
    private const double ExpUnderflow = -800; // every exp below it is 0 even after subnormal rounding
    private const double Sqrt2 = 1.4142135623730951; // √2 rounded to nearest, as Math.Sqrt(2) (IEEE 754 rounds sqrt exactly)

    // e^r = Σ r^k / k! for |r| ≤ ln 2 / 2: the term r^14/14! is below 4e-18, under a quarter of a unit. Constants, so
    // that the fully optimized loops that inline these functions hold them in registers.
    private const double E2 = 1.0 / 2, E3 = 1.0 / 6, E4 = 1.0 / 24, E5 = 1.0 / 120, E6 = 1.0 / 720, E7 = 1.0 / 5040, E8 = 1.0 / 40320,
        E9 = 1.0 / 362880, E10 = 1.0 / 3628800, E11 = 1.0 / 39916800, E12 = 1.0 / 479001600, E13 = 1.0 / 6227020800;
    // ln m = 2·atanh(s), s = (m − 1)/(m + 1), = 2s·Σ s^2k/(2k + 1) for m in [√½, √2], |s| ≤ 0.1716: the term
    // s^24/25 is below 1e-19 of the sum.
    private const double L1 = 1.0 / 3, L2 = 1.0 / 5, L3 = 1.0 / 7, L4 = 1.0 / 9, L5 = 1.0 / 11, L6 = 1.0 / 13, L7 = 1.0 / 15,
        L8 = 1.0 / 17, L9 = 1.0 / 19, L10 = 1.0 / 21, L11 = 1.0 / 23;

    /// <summary>c0 + c1·x, a pair of Estrin's scheme.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Pair(double c1, Vector256<double> x, double c0) => Vector256.Create(c1) * x + Vector256.Create(c0);

    /// <summary>low + high·x, pairs of pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Pair(Vector256<double> low, Vector256<double> x, Vector256<double> high) => low + high * x;

    /// <summary>e^x of each lane: NaN stays NaN, −∞ and anything below −800 give 0, anything above ln(double.MaxValue) +∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Exp(Vector256<double> x)
    {
        var clamped = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpUnderflow)), Vector256.Create(ExpUnderflow), x);
        clamped = Vector256.ConditionalSelect(Vector256.GreaterThan(clamped, Vector256.Create(ExpOverflow)), Vector256<double>.Zero, clamped);
        var series = ExpOfRemainder(clamped, out var n);
        // 2^n in two factors, each a normal double, so results down to the subnormals round once more at most.
        var half = Vector256.Floor(n * Vector256.Create(0.5));
        var result = series * PowerOfTwo(half) * PowerOfTwo(n - half);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(ExpOverflow)), Vector256.Create(double.PositiveInfinity), result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>
    /// <see cref="Exp(Vector256{double})"/> for lanes in [<see cref="InRangeLow"/>, 0] only, with the same bits there and
    /// fewer operations: nothing to clamp or replace, and 2^n one normal factor (multiplying by a power of two is exact
    /// while the result stays normal, so one factor and two give the same product).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ExpInRange(Vector256<double> x) => ExpOfRemainder(x, out var n) * PowerOfTwo(n);

    /// <summary>The least argument <see cref="ExpInRange"/> takes (its results are normal doubles).</summary>
    public const double InRangeLow = -700;

    /// <summary>e^r for x = n·ln 2 + r, |r| ≤ ln 2 / 2 (up to the rounding of x·log2 e, which only moves r a little past it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ExpOfRemainder(Vector256<double> x, out Vector256<double> n)
    {
        n = x * Vector256.Create(Log2E) + Vector256.Create(RoundingShift) - Vector256.Create(RoundingShift);
        var r = x - n * Vector256.Create(Ln2Head) - n * Vector256.Create(Ln2Tail);
        // Estrin's scheme: terms in pairs, pairs of pairs, and so on, four dependent steps after the powers of r instead
        // of Horner's thirteen (a chain that long left the CPU waiting on each step's latency).
        var r2 = r * r;
        var r4 = r2 * r2;
        var r8 = r4 * r4;
        var low = Pair(Pair(1.0, r, 1.0), r2, Pair(E3, r, E2)) + Pair(Pair(E5, r, E4), r2, Pair(E7, r, E6)) * r4;
        var high = Pair(Pair(E9, r, E8), r2, Pair(E11, r, E10)) + Pair(E13, r, E12) * r4;
        return low + high * r8;
    }

    /// <summary>ln x of each lane: ln 0 = −∞, a negative lane or NaN gives NaN, +∞ stays +∞; subnormals are scaled first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Log(Vector256<double> x)
    {
        var subnormal = Vector256.LessThan(x, Vector256.Create(double.Epsilon * 4503599627370496.0)); // below 2^-1022 (0 and negatives too; fixed below)
        var scaled = Vector256.ConditionalSelect(subnormal, x * Vector256.Create(18014398509481984.0), x); // · 2^54
        var bits = scaled.AsInt64();
        // x = 2^e · m, m in [1, 2), then m in [√½, √2].
        var exponentField = (bits >>> 52) & Vector256.Create(0x7FFL);
        var e = (exponentField | Vector256.Create(0x4330000000000000L)).AsDouble() - Vector256.Create(4503599627370496.0) // the field as a double
            - Vector256.Create(1023.0) - (Vector256.Create(54.0) & subnormal);
        var m = ((bits & Vector256.Create(0x000FFFFFFFFFFFFFL)) | Vector256.Create(0x3FF0000000000000L)).AsDouble();
        var high = Vector256.GreaterThan(m, Vector256.Create(Sqrt2));
        m = Vector256.ConditionalSelect(high, m * Vector256.Create(0.5), m);
        e += Vector256.Create(1.0) & high;
        var result = e * Vector256.Create(Ln2Head) + (LogOfMantissa(m) + e * Vector256.Create(Ln2Tail));
        // The special lanes, as IEEE 754 defines them.
        result = Vector256.ConditionalSelect(Vector256.Equals(x, Vector256<double>.Zero), Vector256.Create(double.NegativeInfinity), result);
        result = Vector256.ConditionalSelect(Vector256.Equals(x, Vector256.Create(double.PositiveInfinity)), x, result);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero) | ~Vector256.Equals(x, x), Vector256.Create(double.NaN), result);
    }

    /// <summary>
    /// <see cref="Log(Vector256{double})"/> for lanes in (√2/2, √2] only (<see cref="IsNearOne"/>), with the same bits
    /// there: such an x is its own mantissa (e = 0), and e·ln 2's terms add exact zeros to a result that is never −0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LogNearOne(Vector256<double> x) => LogOfMantissa(x);

    /// <summary>Whether every lane is in (√2/2, √2], where <see cref="LogNearOne"/> takes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsNearOne(Vector256<double> x) =>
        Vector256.GreaterThanAll(x, Vector256.Create(Sqrt2 * 0.5)) && Vector256.LessThanOrEqualAll(x, Vector256.Create(Sqrt2));

    /// <summary>ln m for m in [√2/2, √2]: 2s·Σ s^2k/(2k + 1), s = (m − 1)/(m + 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> LogOfMantissa(Vector256<double> m)
    {
        var f = m - Vector256.Create(1.0); // exact (Sterbenz)
        var s = f / (Vector256.Create(2.0) + f);
        var z = s * s;
        var z2 = z * z;
        var z4 = z2 * z2;
        var z8 = z4 * z4;
        var low = Pair(Pair(L1, z, 1.0), z2, Pair(L3, z, L2)) + Pair(Pair(L5, z, L4), z2, Pair(L7, z, L6)) * z4;
        var high = Pair(Pair(L9, z, L8), z2, Pair(L11, z, L10));
        return Vector256.Create(2.0) * s * (low + high * z8);
    }

    /// <summary>e^x with the bits of the four-lane <see cref="Exp(Vector256{double})"/>.</summary>
    public static double Exp(double x) => Exp(Vector256.Create(x)).GetElement(0);

    /// <summary>ln x with the bits of the four-lane <see cref="Log(Vector256{double})"/>.</summary>
    public static double Log(double x) => Log(Vector256.Create(x)).GetElement(0);

    /// <summary>2^k for integer-valued k in [−1022, 1023]: the biased exponent put in place.</summary>
    private static Vector256<double> PowerOfTwo(Vector256<double> k) =>
        ((k + Vector256.Create(RoundingShift + 1023)).AsInt64() << 52).AsDouble();
}
