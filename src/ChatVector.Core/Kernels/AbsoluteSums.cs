namespace ChatVector.Core.Kernels;

/// <summary>
/// Σ|x| in float64 over float32 or float64 values, in eight interleaved partial sums (element j into sum j mod 8) combined
/// in a fixed order at the end. Why eight: one running sum makes every add wait for the last (a chain the length of the
/// tensor); eight independent ones let the adds overlap. Why not SIMD lanes: the lane count differs between CPUs (AVX2,
/// AVX-512), and with it the order of the float64 adds, so the sum's last bits, and a factor made from it, would too.
/// </summary>
public static class AbsoluteSums
{
    private const int Partials = 8;

    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static double Of(ReadOnlySpan<float> values)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int j = 0;
        for (; j <= values.Length - Partials; j += Partials)
        {
            s0 += Math.Abs((double)values[j]);
            s1 += Math.Abs((double)values[j + 1]);
            s2 += Math.Abs((double)values[j + 2]);
            s3 += Math.Abs((double)values[j + 3]);
            s4 += Math.Abs((double)values[j + 4]);
            s5 += Math.Abs((double)values[j + 5]);
            s6 += Math.Abs((double)values[j + 6]);
            s7 += Math.Abs((double)values[j + 7]);
        }
        double tail = 0;
        for (; j < values.Length; j++) tail += Math.Abs((double)values[j]);
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)) + tail;
    }

    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static double Of(ReadOnlySpan<double> values)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int j = 0;
        for (; j <= values.Length - Partials; j += Partials)
        {
            s0 += Math.Abs(values[j]);
            s1 += Math.Abs(values[j + 1]);
            s2 += Math.Abs(values[j + 2]);
            s3 += Math.Abs(values[j + 3]);
            s4 += Math.Abs(values[j + 4]);
            s5 += Math.Abs(values[j + 5]);
            s6 += Math.Abs(values[j + 6]);
            s7 += Math.Abs(values[j + 7]);
        }
        double tail = 0;
        for (; j < values.Length; j++) tail += Math.Abs(values[j]);
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)) + tail;
    }
}
