using System.Runtime.Intrinsics;

namespace ChatVector.Core.Kernels;

/// <summary>
/// Σ|x| in float64 over float32 or float64 values, in eight interleaved partial sums (element j into sum j mod 8) combined
/// in a fixed order at the end. Why eight: one running sum makes every add wait for the last (a chain the length of the
/// tensor); eight independent ones let the adds overlap. The eight sums are the lanes of two 256-bit vectors: a fixed
/// width, not <see cref="System.Numerics.Vector{T}"/>'s, whose lane count differs between CPUs (AVX2, AVX-512) and with
/// it the order of the float64 adds, so the sum's last bits, and a factor made from it, would too. Where 256-bit vectors
/// are not in hardware .NET runs the same lane operations in software: the same sums, slower.
/// </summary>
public static class AbsoluteSums
{
    private const int Partials = 8;

    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static double Of(ReadOnlySpan<float> values)
    {
        // Lanes of low: partial sums 0-3; of high: 4-7 (one float32 vector widens into the two halves).
        var low = Vector256<double>.Zero;
        var high = Vector256<double>.Zero;
        int j = 0;
        for (; j <= values.Length - Partials; j += Partials)
        {
            var (first, second) = Vector256.Widen(Vector256.Create(values[j..]));
            low += Vector256.Abs(first);
            high += Vector256.Abs(second);
        }
        double tail = 0;
        for (; j < values.Length; j++) tail += Math.Abs((double)values[j]);
        return Combine(low, high) + tail;
    }

    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static double Of(ReadOnlySpan<double> values)
    {
        var low = Vector256<double>.Zero;
        var high = Vector256<double>.Zero;
        int j = 0;
        for (; j <= values.Length - Partials; j += Partials)
        {
            low += Vector256.Abs(Vector256.Create(values[j..]));
            high += Vector256.Abs(Vector256.Create(values[(j + 4)..]));
        }
        double tail = 0;
        for (; j < values.Length; j++) tail += Math.Abs(values[j]);
        return Combine(low, high) + tail;
    }

    /// <summary>The eight partial sums, added in one fixed order.</summary>
    private static double Combine(Vector256<double> low, Vector256<double> high) =>
        ((low[0] + low[1]) + (low[2] + low[3])) + ((high[0] + high[1]) + (high[2] + high[3]));
}
