using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ChatVector.Core.Kernels;

/// <summary>
/// The element loops of the mixing step (Merge/Consensus: sign election and normalization), a SIMD vector at a time with a scalar tail. Each lane
/// does exactly the scalar operation (IEEE float32/float64; no fused multiply-add but in <see cref="MultiplyAdd(ReadOnlySpan{float}, float, Span{float})"/>,
/// which is fused in both), so vector and tail agree bit
/// for bit with each other and with the tensor path; comparisons replace branches (random signs defeat prediction).
/// </summary>
public static class MixKernels
{
    private static readonly int Width = Vector<float>.Count;

    /// <summary>w *= ratio.</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void Scale(Span<float> w, float ratio)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j <= w.Length - Width; j += Width) (new Vector<float>(w[j..]) * ratio).CopyTo(w[j..]);
        for (; j < w.Length; j++) w[j] *= ratio;
    }

    /// <summary>total += w (Sum) or sign(w) (Count).</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
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
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void Add(ReadOnlySpan<float> w, Span<float> mixed)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j <= w.Length - Width; j += Width) (new Vector<float>(mixed[j..]) + new Vector<float>(w[j..])).CopyTo(mixed[j..]);
        for (; j < w.Length; j++) mixed[j] += w[j];
    }

    /// <summary>
    /// sum += ratio·v rounded once (a fused multiply-add), as libtorch's AVX2 and AVX-512 kernels compute
    /// <c>add_(v, alpha)</c>. libtorch's portable kernels (a CPU without AVX2, or <c>ATEN_CPU_CAPABILITY=default</c>)
    /// round the product first, so the same merge gave other bytes there; the fused operation is correctly rounded
    /// on every CPU (<see cref="MathF.FusedMultiplyAdd"/> is exact in software where the CPU has no FMA), so the vector
    /// loop and the scalar tail agree bit for bit, whatever the vector width.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void MultiplyAdd(ReadOnlySpan<float> v, float ratio, Span<float> sum)
    {
        if (v.Length != sum.Length) throw new ArgumentException("the vector and the sum must have the same length");
        int j = 0;
        if (Fma.IsSupported && Vector256.IsHardwareAccelerated)
        {
            var r = Vector256.Create(ratio);
            for (; j <= v.Length - Vector256<float>.Count; j += Vector256<float>.Count)
                Fma.MultiplyAdd(Vector256.Create(v[j..]), r, Vector256.Create(sum[j..])).CopyTo(sum[j..]);
        }
        for (; j < v.Length; j++) sum[j] = MathF.FusedMultiplyAdd(v[j], ratio, sum[j]);
    }

    /// <summary>sum += ratio·v rounded once, in float64 (see the float32 overload).</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void MultiplyAdd(ReadOnlySpan<double> v, double ratio, Span<double> sum)
    {
        if (v.Length != sum.Length) throw new ArgumentException("the vector and the sum must have the same length");
        int j = 0;
        if (Fma.IsSupported && Vector256.IsHardwareAccelerated)
        {
            var r = Vector256.Create(ratio);
            for (; j <= v.Length - Vector256<double>.Count; j += Vector256<double>.Count)
                Fma.MultiplyAdd(Vector256.Create(v[j..]), r, Vector256.Create(sum[j..])).CopyTo(sum[j..]);
        }
        for (; j < v.Length; j++) sum[j] = Math.FusedMultiplyAdd(v[j], ratio, sum[j]);
    }

    /// <summary>divisor += ratio.</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void Add(Span<double> divisor, double ratio)
    {
        foreach (ref var d in divisor) d += ratio;
    }

    /// <summary>kept = (sign(w) == elected sign of total) as 1 or 0; mixed += w·kept; divisor += kept·ratio (in double).</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
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
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
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

    /// <summary>
    /// The whole mix of exactly two contributions that both cover <paramref name="model"/>, in registers: per element the
    /// same operations in the same order as <see cref="Scale"/>, <see cref="AddToTotal"/>, <see cref="AddKept"/> (or
    /// <see cref="Add(ReadOnlySpan{float}, Span{float})"/> and the ratio sum without consensus) and <see cref="Finish"/>
    /// over sums that start at +0, so the bytes are those of the pass-by-pass path, without its sweeps over scratch sums.
    /// Two vectors is the common composition (TIES and DARE-TIES of a chat and a cp vector).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void MixTwo(Span<float> model, ReadOnlySpan<float> v1, double ratio1, ReadOnlySpan<float> v2, double ratio2,
        bool electSign, bool countSigns, bool normalize, double negligible)
    {
        if (v1.Length != model.Length || v2.Length != model.Length) throw new ArgumentException("both contributions must cover the block");
        float r1 = (float)ratio1, r2 = (float)ratio2;
        bool count = countSigns, byKept = electSign;
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            var zero = Vector<float>.Zero;
            // Each element's divisor is one of four values (which contributions it kept), so they are computed once, in
            // double and with the unusable ones replaced, exactly as the scalar path computes each element's; the loop
            // picks one per lane instead of widening the kept flags to double, a conversion per element that costs a
            // large share of the loop.
            var divideByNone = new Vector<float>(Divisor(0, ratio1, 0, ratio2, byKept, negligible));
            var divideByFirst = new Vector<float>(Divisor(1, ratio1, 0, ratio2, byKept, negligible));
            var divideBySecond = new Vector<float>(Divisor(0, ratio1, 1, ratio2, byKept, negligible));
            var divideByBoth = new Vector<float>(Divisor(1, ratio1, 1, ratio2, byKept, negligible));
            for (; j <= model.Length - Width; j += Width)
            {
                var w1 = new Vector<float>(v1[j..]) * r1;
                var w2 = new Vector<float>(v2[j..]) * r2;
                Vector<float> mixed, divisor;
                if (!byKept)
                {
                    mixed = zero + w1 + w2;
                    divisor = divideByBoth;
                }
                else
                {
                    var total = zero + (count ? Sign(w1) : w1) + (count ? Sign(w2) : w2);
                    var elected = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(total, zero), one, -one);
                    var keeps1 = Vector.Equals(Sign(w1), elected);
                    var keeps2 = Vector.Equals(Sign(w2), elected);
                    mixed = zero + w1 * Vector.ConditionalSelect(keeps1, one, zero) + w2 * Vector.ConditionalSelect(keeps2, one, zero);
                    divisor = Vector.ConditionalSelect(keeps1,
                        Vector.ConditionalSelect(keeps2, divideByBoth, divideByFirst),
                        Vector.ConditionalSelect(keeps2, divideBySecond, divideByNone));
                }
                var m = new Vector<float>(model[j..]);
                (normalize ? m + mixed / divisor : m + mixed).CopyTo(model[j..]);
            }
        }
        for (; j < model.Length; j++)
        {
            float w1 = v1[j] * r1, w2 = v2[j] * r2;
            float mixed;
            double d;
            if (!byKept)
            {
                mixed = 0f + w1 + w2;
                d = 0.0 + ratio1 + ratio2;
            }
            else
            {
                float total = 0f + (count ? Sign(w1) : w1) + (count ? Sign(w2) : w2);
                float elected = total >= 0 ? 1f : -1f;
                float kept1 = Sign(w1) == elected ? 1f : 0f, kept2 = Sign(w2) == elected ? 1f : 0f;
                mixed = 0f + w1 * kept1 + w2 * kept2;
                d = 0.0 + kept1 * ratio1 + kept2 * ratio2;
            }
            if (!normalize)
            {
                model[j] += mixed;
                continue;
            }
            if (byKept ? d == 0 : Math.Abs(d) < negligible) d = 1.0;
            model[j] += mixed / (float)d;
        }
    }

    /// <summary>
    /// model += the mix of <paramref name="values"/> (each a vector's values over the chunk's first elements, overwritten by
    /// w = value·ratio), in float64 element by element: the float32 passes' operations in the same order (w, the elected
    /// sign from the total, the kept sum, the kept or covering ratios summed, an unusable divisor replaced by 1), in
    /// double. Float64 merges are rare (an F64 model or output); scalar code keeps them simple.
    /// </summary>
    public static void MixInto(Span<double> model, double[][] values, double[] ratios, bool electSign, bool countSigns, bool normalize, double negligible)
    {
        for (int i = 0; i < values.Length; i++)
            for (int j = 0; j < values[i].Length; j++) values[i][j] *= ratios[i];
        for (int j = 0; j < model.Length; j++)
        {
            double elected = 1;
            if (electSign)
            {
                double total = 0;
                for (int i = 0; i < values.Length; i++)
                    if (j < values[i].Length) total += countSigns ? Sign(values[i][j]) : values[i][j];
                elected = total >= 0 ? 1 : -1;
            }
            double mixed = 0, divisor = 0;
            for (int i = 0; i < values.Length; i++)
            {
                if (j >= values[i].Length) continue; // past a vector's end: w = +0, never kept, not covering
                double w = values[i][j];
                double kept = !electSign || Sign(w) == elected ? 1 : 0;
                mixed += w * kept;
                divisor += electSign ? kept * ratios[i] : ratios[i];
            }
            if (normalize)
            {
                if (electSign ? divisor == 0 : Math.Abs(divisor) < negligible) divisor = 1.0;
                mixed /= divisor;
            }
            model[j] += mixed;
        }
    }

    /// <summary>torch's sign in float64.</summary>
    private static double Sign(double value) => value > 0 ? 1 : value < 0 ? -1 : 0;

    /// <summary>
    /// The divisor of an element that kept the contributions flagged (1 or 0), as the scalar path computes it: the kept
    /// ratios summed in double (without consensus every ratio counts), an unusable sum replaced by 1, rounded to float.
    /// </summary>
    private static float Divisor(float kept1, double ratio1, float kept2, double ratio2, bool byKept, double negligible)
    {
        double d = byKept ? 0.0 + kept1 * ratio1 + kept2 * ratio2 : 0.0 + ratio1 + ratio2;
        if (byKept ? d == 0 : Math.Abs(d) < negligible) d = 1.0;
        return (float)d;
    }

    private static Vector<long> Unusable(Vector<double> d, bool byKept, double negligible) =>
        byKept ? Vector.Equals(d, Vector<double>.Zero) : Vector.LessThan(Vector.Abs(d), new Vector<double>(negligible));

    /// <summary>torch's sign: 1, −1, or 0 for zeros and NaN.</summary>
    private static float Sign(float value) => value > 0 ? 1f : value < 0 ? -1f : 0f;

    private static Vector<float> Sign(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), Vector<float>.One,
            Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -Vector<float>.One, Vector<float>.Zero));
}
