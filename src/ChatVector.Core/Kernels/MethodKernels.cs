using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;

namespace ChatVector.Core.Kernels;

/// <summary>
/// The element loops of the methods run from a config (Methods: the slerp family, model_stock, sce, arcee_fusion, nearswap), a SIMD
/// vector at a time with a scalar tail. Each lane does exactly the scalar formula's operations in its order (IEEE
/// float32, no fused multiply-add), so the bytes are those of the element-by-element loop. A sum over the models is
/// built a model at a time over the whole span (each element still gets its terms in the model order), so one loop
/// serves any number of models.
/// </summary>
public static class MethodKernels
{
    private static readonly int Width = Vector<float>.Count;

    /// <summary>0, 1, 2, … in the lanes of a vector.</summary>
    private static readonly Vector<int> LaneIndices = new(Enumerable.Range(0, Vector<int>.Count).ToArray());

    /// <summary>output = w0·x0 + w1·(x0 + v).</summary>
    [MethodImpl(HotLoop.Options)]
    public static void Interpolate(ReadOnlySpan<float> x0, ReadOnlySpan<float> v, float w0, float w1, Span<float> output)
    {
        Check(x0, v, output);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= output.Length - Width; i += Width)
            {
                var a = new Vector<float>(x0[i..]);
                (w0 * a + w1 * (a + new Vector<float>(v[i..]))).CopyTo(output[i..]);
            }
        for (; i < output.Length; i++) output[i] = w0 * x0[i] + w1 * (x0[i] + v[i]);
    }

    /// <summary>output = x0 + (a·d1 + b·d2) / divisor.</summary>
    [MethodImpl(HotLoop.Options)]
    public static void AddBlend(ReadOnlySpan<float> x0, ReadOnlySpan<float> d1, float a, ReadOnlySpan<float> d2, float b, float divisor, Span<float> output)
    {
        Check(x0, d1, output);
        Check(x0, d2, output);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var divisors = new Vector<float>(divisor);
            for (; i <= output.Length - Width; i += Width)
                (new Vector<float>(x0[i..]) + (a * new Vector<float>(d1[i..]) + b * new Vector<float>(d2[i..])) / divisors).CopyTo(output[i..]);
        }
        for (; i < output.Length; i++) output[i] = x0[i] + (a * d1[i] + b * d2[i]) / divisor;
    }

    /// <summary>sum += k·v.</summary>
    [MethodImpl(HotLoop.Options)]
    public static void AddScaled(Span<float> sum, float k, ReadOnlySpan<float> v)
    {
        Check(v, v, sum);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= sum.Length - Width; i += Width) (new Vector<float>(sum[i..]) + k * new Vector<float>(v[i..])).CopyTo(sum[i..]);
        for (; i < sum.Length; i++) sum[i] += k * v[i];
    }

    /// <summary>sum += k·(x0 + v).</summary>
    [MethodImpl(HotLoop.Options)]
    public static void AddScaledSum(Span<float> sum, float k, ReadOnlySpan<float> x0, ReadOnlySpan<float> v)
    {
        Check(x0, v, sum);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= sum.Length - Width; i += Width)
                (new Vector<float>(sum[i..]) + k * (new Vector<float>(x0[i..]) + new Vector<float>(v[i..]))).CopyTo(sum[i..]);
        for (; i < sum.Length; i++) sum[i] += k * (x0[i] + v[i]);
    }

    /// <summary>
    /// output = ((0 + k0·(x0 + v0)) + k1·(x0 + v1)) + k2·(x0 + v2) in one walk: the additions and products of three
    /// <see cref="AddScaledSum"/> walks onto a cleared sum, in the same order, without storing and reloading the sum
    /// between them.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static void ScaledSumsOfThree(Span<float> output, float k0, float k1, float k2, ReadOnlySpan<float> x0, ReadOnlySpan<float> v0, ReadOnlySpan<float> v1,
        ReadOnlySpan<float> v2)
    {
        Check(x0, v0, output);
        Check(v1, v2, output);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= output.Length - Width; i += Width)
            {
                var b = new Vector<float>(x0[i..]);
                var sum = Vector<float>.Zero + k0 * (b + new Vector<float>(v0[i..]));
                sum += k1 * (b + new Vector<float>(v1[i..]));
                (sum + k2 * (b + new Vector<float>(v2[i..]))).CopyTo(output[i..]);
            }
        for (; i < output.Length; i++)
        {
            float sum = 0f + k0 * (x0[i] + v0[i]);
            sum += k1 * (x0[i] + v1[i]);
            output[i] = sum + k2 * (x0[i] + v2[i]);
        }
    }

    /// <summary>sum += x0 + v.</summary>
    [MethodImpl(HotLoop.Options)]
    public static void AddSum(Span<float> sum, ReadOnlySpan<float> x0, ReadOnlySpan<float> v)
    {
        Check(x0, v, sum);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= sum.Length - Width; i += Width)
                (new Vector<float>(sum[i..]) + (new Vector<float>(x0[i..]) + new Vector<float>(v[i..]))).CopyTo(sum[i..]);
        for (; i < sum.Length; i++) sum[i] += x0[i] + v[i];
    }

    /// <summary>values = t·(values / n) + (1 − t)·x0, with 1 − t taken in float32 as the scalar formula takes it.</summary>
    [MethodImpl(HotLoop.Options)]
    public static void PullTowards(Span<float> values, float t, float n, ReadOnlySpan<float> x0)
    {
        Check(x0, x0, values);
        float rest = 1 - t;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var counts = new Vector<float>(n);
            for (; i <= values.Length - Width; i += Width)
                (t * (new Vector<float>(values[i..]) / counts) + rest * new Vector<float>(x0[i..])).CopyTo(values[i..]);
        }
        for (; i < values.Length; i++) values[i] = t * (values[i] / n) + rest * x0[i];
    }

    /// <summary>
    /// output = (x0 + k1·d1) + k2·d2: <see cref="AddScaled"/> twice onto a copy of x0 in one walk, each element's
    /// operations those of the three walks, in their order.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static void AddTwoScaled(ReadOnlySpan<float> x0, float k1, ReadOnlySpan<float> d1, float k2, ReadOnlySpan<float> d2, Span<float> output)
    {
        Check(x0, d1, output);
        Check(x0, d2, output);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= output.Length - Width; i += Width)
                (new Vector<float>(x0[i..]) + k1 * new Vector<float>(d1[i..]) + k2 * new Vector<float>(d2[i..])).CopyTo(output[i..]);
        for (; i < output.Length; i++)
        {
            float sum = x0[i];
            sum += k1 * d1[i];
            sum += k2 * d2[i];
            output[i] = sum;
        }
    }

    /// <summary>
    /// output = t·(((0 + (x0 + d1)) + (x0 + d2)) / 2) + (1 − t)·x0: two models' <see cref="AddSum"/> onto zeros and then
    /// <see cref="PullTowards"/>, in one walk, each element's operations those of the separate walks, in their order.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static void PullPairTowards(ReadOnlySpan<float> x0, ReadOnlySpan<float> d1, ReadOnlySpan<float> d2, float t, Span<float> output)
    {
        Check(x0, d1, output);
        Check(x0, d2, output);
        float rest = 1 - t;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var counts = new Vector<float>(2f);
            for (; i <= output.Length - Width; i += Width)
            {
                var a = new Vector<float>(x0[i..]);
                var sum = Vector<float>.Zero + (a + new Vector<float>(d1[i..])) + (a + new Vector<float>(d2[i..]));
                (t * (sum / counts) + rest * a).CopyTo(output[i..]);
            }
        }
        for (; i < output.Length; i++)
        {
            float sum = 0f;
            sum += x0[i] + d1[i];
            sum += x0[i] + d2[i];
            output[i] = t * (sum / 2f) + rest * x0[i];
        }
    }

    /// <summary>
    /// The population variance of two values per element, as the scalar loop takes it: sum = (0 + a) + b, mean = sum / 2,
    /// ((0 + (a − mean)²) + (b − mean)²) / 2.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static void VarianceOfTwo(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> variances)
    {
        Check(a, b, variances);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var two = new Vector<float>(2f);
            for (; i <= variances.Length - Width; i += Width)
            {
                var x = new Vector<float>(a[i..]);
                var y = new Vector<float>(b[i..]);
                var mean = (Vector<float>.Zero + x + y) / two;
                var dx = x - mean;
                var dy = y - mean;
                ((Vector<float>.Zero + dx * dx + dy * dy) / two).CopyTo(variances[i..]);
            }
        }
        for (; i < variances.Length; i++)
        {
            float sum = 0f;
            sum += a[i];
            sum += b[i];
            float mean = sum / 2, dx = a[i] - mean, dy = b[i] - mean, squares = 0f;
            squares += dx * dx;
            squares += dy * dy;
            variances[i] = squares / 2;
        }
    }

    /// <summary>
    /// sce's merge of two task vectors per element: the majority sign is that of (0 + a) + b (≥ 0 positive); each
    /// vector's weight counts where its delta has that sign (ka = wa, else 0); output = x0 + ((0 + a·ka) + b·kb) /
    /// ((0 + ka) + kb), the divisor 1 where both drop. A NaN delta has neither sign and drops.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static void SignElectedPair(ReadOnlySpan<float> x0, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float wa, float wb, Span<float> output)
    {
        Check(x0, a, output);
        Check(x0, b, output);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var weightA = new Vector<float>(wa);
            var weightB = new Vector<float>(wb);
            var one = Vector<float>.One;
            for (; i <= output.Length - Width; i += Width)
            {
                var x = new Vector<float>(a[i..]);
                var y = new Vector<float>(b[i..]);
                var positive = Vector.GreaterThanOrEqual(Vector<float>.Zero + x + y, Vector<float>.Zero);
                var keptA = Vector.ConditionalSelect(Vector.ConditionalSelect(positive, Vector.GreaterThan(x, Vector<float>.Zero), Vector.LessThan(x, Vector<float>.Zero)), weightA, Vector<float>.Zero);
                var keptB = Vector.ConditionalSelect(Vector.ConditionalSelect(positive, Vector.GreaterThan(y, Vector<float>.Zero), Vector.LessThan(y, Vector<float>.Zero)), weightB, Vector<float>.Zero);
                var mixed = Vector<float>.Zero + x * keptA + y * keptB;
                var divisor = Vector<float>.Zero + keptA + keptB;
                divisor = Vector.ConditionalSelect(Vector.Equals(divisor, Vector<float>.Zero), one, divisor);
                (new Vector<float>(x0[i..]) + mixed / divisor).CopyTo(output[i..]);
            }
        }
        for (; i < output.Length; i++)
        {
            float x = a[i], y = b[i], sum = 0f;
            sum += x;
            sum += y;
            bool positive = sum >= 0;
            float keptA = (positive ? x > 0 : x < 0) ? wa : 0f, keptB = (positive ? y > 0 : y < 0) ? wb : 0f;
            float mixed = 0f, divisor = 0f;
            mixed += x * keptA;
            divisor += keptA;
            mixed += y * keptB;
            divisor += keptB;
            output[i] = x0[i] + mixed / (divisor == 0 ? 1f : divisor);
        }
    }

    /// <summary>
    /// Puts x0 back where an element falls below a threshold of the magnitude order: where the key of its magnitude
    /// (<see cref="MagnitudeOrder.Key(float)"/>) is below <paramref name="key"/>, or equal to it at an index below
    /// <paramref name="firstKeptAtKey"/> (the span's own index of the first element kept among those equal to the key).
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static void RestoreBelow(ReadOnlySpan<float> magnitudes, uint key, int firstKeptAtKey, ReadOnlySpan<float> x0, Span<float> output)
    {
        Check(magnitudes, x0, output);
        if (key > int.MaxValue)
        {
            x0.CopyTo(output); // above every key: nothing is kept
            return;
        }
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Keys have no sign bit, so they compare as signed integers.
            var threshold = new Vector<int>((int)key);
            var firstKept = new Vector<int>(firstKeptAtKey);
            var sign = new Vector<int>(int.MaxValue);
            var lanes = LaneIndices;
            for (; i <= output.Length - Width; i += Width)
            {
                var keys = Vector.AsVectorInt32(new Vector<float>(magnitudes[i..])) & sign;
                var below = Vector.LessThan(keys, threshold) | (Vector.Equals(keys, threshold) & Vector.LessThan(lanes + new Vector<int>(i), firstKept));
                Vector.ConditionalSelect(below, new Vector<float>(x0[i..]), new Vector<float>(output[i..])).CopyTo(output[i..]);
            }
        }
        for (; i < output.Length; i++)
        {
            uint k = MagnitudeOrder.Key(magnitudes[i]);
            if (k < key || k == key && i < firstKeptAtKey) output[i] = x0[i];
        }
    }

    /// <summary>output = (float)(|v| · factor), the product taken in float64 (exact for a float32 |v|) and rounded once.</summary>
    [MethodImpl(HotLoop.Options)]
    public static void ScaledMagnitudes(ReadOnlySpan<float> values, double factor, Span<float> output)
    {
        Check(values, values, output);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var factors = new Vector<double>(factor);
            for (; i <= output.Length - Width; i += Width)
            {
                Vector.Widen(Vector.Abs(new Vector<float>(values[i..])), out var low, out var high);
                Vector.Narrow(low * factors, high * factors).CopyTo(output[i..]);
            }
        }
        for (; i < output.Length; i++) output[i] = (float)(Math.Abs(values[i]) * factor);
    }

    /// <summary>In place: where the score reaches <paramref name="threshold"/>, x0 + δ, else x0 (a NaN score reaches nothing).</summary>
    [MethodImpl(HotLoop.Options)]
    public static void AddWhereScoreReaches(ReadOnlySpan<float> x0, ReadOnlySpan<float> delta, float threshold, Span<float> scoresThenOutput)
    {
        Check(x0, delta, scoresThenOutput);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var thresholds = new Vector<float>(threshold);
            for (; i <= scoresThenOutput.Length - Width; i += Width)
            {
                var a = new Vector<float>(x0[i..]);
                var reaches = Vector.GreaterThanOrEqual(new Vector<float>(scoresThenOutput[i..]), thresholds);
                Vector.ConditionalSelect(reaches, a + new Vector<float>(delta[i..]), a).CopyTo(scoresThenOutput[i..]);
            }
        }
        for (; i < scoresThenOutput.Length; i++) scoresThenOutput[i] = scoresThenOutput[i] >= threshold ? x0[i] + delta[i] : x0[i];
    }

    /// <summary>
    /// The largest of x0 + δ (added in float32) and the largest of x0, each −∞ for no elements and NaN when any of its
    /// values is NaN: what a chain of <see cref="Math.Max(double, double)"/> over them gives (a maximum is exact in any
    /// order), but for the sign of a zero maximum, which may come out either way (no x − max changes with it).
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static (float MaxSum, float MaxBase) Maxima(ReadOnlySpan<float> x0, ReadOnlySpan<float> delta)
    {
        Check(x0, delta, x0);
        float maxSum = float.NegativeInfinity, maxBase = float.NegativeInfinity;
        bool nanSum = false, nanBase = false;
        int i = 0;
        if (Vector.IsHardwareAccelerated && x0.Length >= Width)
        {
            var sums = new Vector<float>(float.NegativeInfinity);
            var bases = sums;
            var unordered = Vector<int>.Zero; // lanes that met a NaN (x != x), sums in the low bit, bases in the next
            for (; i <= x0.Length - Width; i += Width)
            {
                var a = new Vector<float>(x0[i..]);
                var s = a + new Vector<float>(delta[i..]);
                sums = Vector.Max(sums, s);
                bases = Vector.Max(bases, a);
                unordered |= (~Vector.Equals(s, s) & Vector<int>.One) | (~Vector.Equals(a, a) & new Vector<int>(2));
            }
            for (int lane = 0; lane < Width; lane++)
            {
                maxSum = Math.Max(maxSum, sums[lane]);
                maxBase = Math.Max(maxBase, bases[lane]);
                nanSum |= (unordered[lane] & 1) != 0;
                nanBase |= (unordered[lane] & 2) != 0;
            }
        }
        for (; i < x0.Length; i++)
        {
            maxSum = Math.Max(maxSum, x0[i] + delta[i]);
            maxBase = Math.Max(maxBase, x0[i]);
        }
        return (nanSum ? float.NaN : maxSum, nanBase ? float.NaN : maxBase);
    }

    /// <summary>
    /// nearswap per element: x1 = x0 + v, w = t / |x0 − x1|, w = 1 where not finite (t / 0, NaN) else clamped to [0, 1]
    /// as <see cref="Math.Clamp(float, float, float)"/> clamps (w &lt; 0 → 0, w &gt; 1 → 1, else w itself),
    /// output = w·x1 + (1 − w)·x0.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static void NearSwap(ReadOnlySpan<float> x0, ReadOnlySpan<float> v, float t, Span<float> output)
    {
        Check(x0, v, output);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var ts = new Vector<float>(t);
            var one = Vector<float>.One;
            var exponent = new Vector<int>(0x7F80_0000);
            for (; i <= output.Length - Width; i += Width)
            {
                var a = new Vector<float>(x0[i..]);
                var x1 = a + new Vector<float>(v[i..]);
                var weight = ts / Vector.Abs(a - x1);
                var finite = ~Vector.Equals(Vector.AsVectorInt32(weight) & exponent, exponent);
                weight = Vector.ConditionalSelect(Vector.LessThan(weight, Vector<float>.Zero), Vector<float>.Zero,
                    Vector.ConditionalSelect(Vector.GreaterThan(weight, one), one, weight));
                weight = Vector.ConditionalSelect(finite, weight, one);
                (weight * x1 + (one - weight) * a).CopyTo(output[i..]);
            }
        }
        for (; i < output.Length; i++)
        {
            float x1 = x0[i] + v[i];
            float weight = t / MathF.Abs(x0[i] - x1);
            weight = float.IsFinite(weight) ? Math.Clamp(weight, 0f, 1f) : 1f; // t / 0 and NaN count as agreement
            output[i] = weight * x1 + (1 - weight) * x0[i];
        }
    }


    private static void Check(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> output)
    {
        if (a.Length != output.Length || b.Length != output.Length)
            throw new ArgumentException($"{output.Length} results for {a.Length} and {b.Length} values", nameof(output));
    }
}
