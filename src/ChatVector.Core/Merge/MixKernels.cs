using System.Numerics;

namespace ChatVector.Core.Merge;

/// <summary>
/// The element loops of <see cref="Consensus.TryMixInto"/>, a SIMD vector at a time with a scalar tail. Each lane
/// does exactly the scalar operation (IEEE float32/float64, no fused multiply-add), so vector and tail agree bit
/// for bit with each other and with the tensor path; comparisons replace branches (random signs defeat prediction).
/// </summary>
internal static class MixKernels
{
    private static readonly int Width = Vector<float>.Count;

    /// <summary>w *= ratio.</summary>
    public static void Scale(Span<float> w, float ratio)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j <= w.Length - Width; j += Width) (new Vector<float>(w[j..]) * ratio).CopyTo(w[j..]);
        for (; j < w.Length; j++) w[j] *= ratio;
    }

    /// <summary>total += w (Sum) or sign(w) (Count).</summary>
    public static void AddToTotal(ReadOnlySpan<float> w, Span<float> total, bool count)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j <= w.Length - Width; j += Width)
            {
                var x = new Vector<float>(w[j..]);
                (new Vector<float>(total[j..]) + (count ? Sign(x) : x)).CopyTo(total[j..]);
            }
        for (; j < w.Length; j++) total[j] += count ? Sign(w[j]) : w[j];
    }

    /// <summary>mixed += w.</summary>
    public static void Add(ReadOnlySpan<float> w, Span<float> mixed)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j <= w.Length - Width; j += Width) (new Vector<float>(mixed[j..]) + new Vector<float>(w[j..])).CopyTo(mixed[j..]);
        for (; j < w.Length; j++) mixed[j] += w[j];
    }

    /// <summary>divisor += ratio.</summary>
    public static void Add(Span<double> divisor, double ratio)
    {
        foreach (ref var d in divisor) d += ratio;
    }

    /// <summary>kept = (sign(w) == elected sign of total) as 1 or 0; mixed += w·kept; divisor += kept·ratio (in double).</summary>
    public static void AddKept(ReadOnlySpan<float> w, ReadOnlySpan<float> total, Span<float> mixed, Span<double> divisor, double ratio)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; j <= w.Length - Width; j += Width)
            {
                var x = new Vector<float>(w[j..]);
                var elected = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(new Vector<float>(total[j..]), Vector<float>.Zero), one, -one);
                var kept = Vector.ConditionalSelect(Vector.Equals(Sign(x), elected), one, Vector<float>.Zero);
                (new Vector<float>(mixed[j..]) + x * kept).CopyTo(mixed[j..]);
                Vector.Widen(kept, out var keptLow, out var keptHigh);
                int half = Vector<double>.Count;
                (new Vector<double>(divisor[j..]) + keptLow * ratio).CopyTo(divisor[j..]);
                (new Vector<double>(divisor[(j + half)..]) + keptHigh * ratio).CopyTo(divisor[(j + half)..]);
            }
        }
        for (; j < w.Length; j++)
        {
            float elected = total[j] >= 0 ? 1f : -1f;
            float kept = Sign(w[j]) == elected ? 1f : 0f;
            mixed[j] += w[j] * kept;
            divisor[j] += kept * ratio;
        }
    }

    /// <summary>model += mixed, or mixed / (float)divisor where a divisor of 0 (by kept ratios) or |d| &lt; negligible (by all ratios) is 1.</summary>
    public static void Finish(Span<float> model, ReadOnlySpan<float> mixed, ReadOnlySpan<double> divisor, bool normalize, bool byKept, double negligible)
    {
        int j = 0;
        if (!normalize)
        {
            Add(mixed, model);
            return;
        }
        if (Vector.IsHardwareAccelerated)
        {
            int half = Vector<double>.Count;
            var oneD = Vector<double>.One;
            for (; j <= model.Length - Width; j += Width)
            {
                var low = new Vector<double>(divisor[j..]);
                var high = new Vector<double>(divisor[(j + half)..]);
                low = Vector.ConditionalSelect(Unusable(low, byKept, negligible), oneD, low);
                high = Vector.ConditionalSelect(Unusable(high, byKept, negligible), oneD, high);
                var d = Vector.Narrow(low, high);
                (new Vector<float>(model[j..]) + new Vector<float>(mixed[j..]) / d).CopyTo(model[j..]);
            }
        }
        for (; j < model.Length; j++)
        {
            double d = divisor[j];
            if (byKept ? d == 0 : Math.Abs(d) < negligible) d = 1.0;
            model[j] += mixed[j] / (float)d;
        }
    }

    private static Vector<long> Unusable(Vector<double> d, bool byKept, double negligible) =>
        byKept ? Vector.Equals(d, Vector<double>.Zero) : Vector.LessThan(Vector.Abs(d), new Vector<double>(negligible));

    /// <summary>torch's sign: 1, −1, or 0 for zeros and NaN.</summary>
    private static float Sign(float value) => value > 0 ? 1f : value < 0 ? -1f : 0f;

    private static Vector<float> Sign(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), Vector<float>.One,
            Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -Vector<float>.One, Vector<float>.Zero));
}
