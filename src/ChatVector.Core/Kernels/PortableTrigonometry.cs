namespace ChatVector.Core.Kernels;

/// <summary>
/// sin, cos and acos of one double with the same bits on every CPU and OS, from IEEE 754 adds, multiplies, divides,
/// square roots and roundings to an integer only, each rounded on its own (the JIT fuses nothing unless asked).
/// Why not <see cref="Math.Sin"/>, <see cref="Math.Cos"/> and <see cref="Math.Acos"/>: they call the C library, which
/// is not correctly rounded (glibc picks FMA variants per CPU, Windows' C runtime is another implementation), so the
/// slerp family's and karcher's per-tensor coefficients could change in their last bit between machines, and with
/// them rare elements of the merged model. Speed does not matter here (a few calls per tensor or row); accuracy is a
/// unit or two in the last place: Taylor series long enough that their truncation is below a tenth of a unit, on
/// arguments reduced exactly enough (π/2 in three parts for sin and cos; acos through asin of at most ½).
/// </summary>
public static class PortableTrigonometry
{
    // π/2 in two parts of 33 significant bits each and the rest rounded (from π = 3.14159265358979323846264338327950288...),
    // so that k·part is exact for the first two parts and the |k| < 2^20 reduced here, and x − k·(π/2) loses nothing that
    // matters.
    private const double HalfPiPart1 = 1.5707963267341256; // 0x3FF921FB54400000
    private const double HalfPiPart2 = 6.077100506303966e-11; // 0x3DD0B4611A600000
    private const double HalfPiPart3 = 2.0222662487959506e-21;
    private const double TwoOverPi = 0.6366197723675814;
    private const double ReductionLimit = 1.5707963267948966 * (1 << 20);
    private const double TwoPi = 6.283185307179586;
    // π/2 and π as a rounded head and its remainder, for acos's subtractions.
    private const double HalfPiHead = 1.5707963267948966, HalfPiTail = 6.123233995736766e-17;
    private const double PiHead = 3.141592653589793, PiTail = 1.2246467991473532e-16;

    // sin r = r − r³/3! + … up to r¹⁷/17! and cos r = 1 − r²/2! + … up to r¹⁸/18! for |r| ≤ π/4 (and a little past it
    // from the reduction's rounding): the first terms left out are about 1e-19 of the result.
    private static readonly double[] SineCoefficients = TaylorCoefficients(first: 3, last: 17);
    private static readonly double[] CosineCoefficients = TaylorCoefficients(first: 2, last: 18);
    // asin z = z + Σ c_n z^(2n+1), c_n = (1·3·…·(2n−1)) / (2·4·…·2n) / (2n + 1), for |z| ≤ ½: n up to 26, the first
    // left out below 1e-18 of z.
    private static readonly double[] ArcsineCoefficients = ArcsineSeries(terms: 26);

    /// <summary>sin x: NaN for NaN and ±∞, ±0 for ±0.</summary>
    public static double Sin(double x) => SineOrCosine(x, sine: true);

    /// <summary>cos x: NaN for NaN and ±∞.</summary>
    public static double Cos(double x) => SineOrCosine(x, sine: false);

    /// <summary>acos x in [0, π]: NaN outside [−1, 1] and for NaN.</summary>
    public static double Acos(double x)
    {
        if (!(Math.Abs(x) <= 1)) return double.NaN;
        // Near ±1 through the half angle, z = √((1 ∓ x)/2) ≤ ½, whose 1 ∓ x is exact (Sterbenz): small angles, the
        // common case for the directions of two fine-tunes of one model, keep their relative accuracy.
        if (x > 0.5) return 2 * Arcsine(Math.Sqrt((1 - x) * 0.5));
        if (x < -0.5) return PiHead - (2 * Arcsine(Math.Sqrt((1 + x) * 0.5)) - PiTail);
        return HalfPiHead - (Arcsine(x) - HalfPiTail);
    }

    private static double SineOrCosine(double x, bool sine)
    {
        if (!double.IsFinite(x)) return double.NaN;
        if (x == 0) return sine ? x : 1; // the reduction below would lose −0's sign
        // The merges' angles are at most π, but rounding noise can make a larger one (karcher's step between two nearly
        // opposite directions). Beyond 2^20·π/2 the remainder by the double nearest 2π (exact, as IEEE's fmod is on every
        // C library) keeps the result the same everywhere, if no longer accurate to the last bit.
        if (Math.Abs(x) > ReductionLimit) x %= TwoPi;
        double k = Math.Round(x * TwoOverPi); // ties to even: IEEE's roundToIntegral, the same everywhere
        double r = x - k * HalfPiPart1 - k * HalfPiPart2 - k * HalfPiPart3;
        int quadrant = (int)((long)k & 3);
        if (!sine) quadrant = (quadrant + 1) & 3; // cos x = sin(x + π/2)
        return quadrant switch
        {
            0 => SineSeries(r),
            1 => CosineSeries(r),
            2 => -SineSeries(r),
            _ => -CosineSeries(r),
        };
    }

    private static double SineSeries(double r)
    {
        double r2 = r * r;
        return r + r * r2 * Horner(SineCoefficients, r2);
    }

    private static double CosineSeries(double r)
    {
        double r2 = r * r;
        return 1 + r2 * Horner(CosineCoefficients, r2);
    }

    private static double Arcsine(double z)
    {
        double z2 = z * z;
        return z + z * z2 * Horner(ArcsineCoefficients, z2);
    }

    /// <summary>c₀ + c₁w + c₂w² + … by Horner's rule.</summary>
    private static double Horner(double[] coefficients, double w)
    {
        double sum = coefficients[^1];
        for (int i = coefficients.Length - 2; i >= 0; i--) sum = sum * w + coefficients[i];
        return sum;
    }

    /// <summary>±1/k! for k = first, first + 2, …, last, signs alternating from −.</summary>
    private static double[] TaylorCoefficients(int first, int last)
    {
        var coefficients = new double[(last - first) / 2 + 1];
        double factorial = 1;
        for (int k = 2; k < first; k++) factorial *= k;
        for (int i = 0, k = first; k <= last; i++, k += 2)
        {
            factorial *= k * (k == first ? 1 : k - 1.0);
            coefficients[i] = (i % 2 == 0 ? -1 : 1) / factorial;
        }
        return coefficients;
    }

    private static double[] ArcsineSeries(int terms)
    {
        var coefficients = new double[terms];
        double ratio = 1; // (1·3·…·(2n−1)) / (2·4·…·2n)
        for (int n = 1; n <= terms; n++)
        {
            ratio *= (2.0 * n - 1) / (2.0 * n);
            coefficients[n - 1] = ratio / (2 * n + 1);
        }
        return coefficients;
    }
}
