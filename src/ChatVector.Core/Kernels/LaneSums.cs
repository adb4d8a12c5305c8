using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ChatVector.Core.Kernels;

/// <summary>
/// Float64 sums of products of float32 values (squared norms, dot products: the statistics of the slerp family,
/// model_stock and karcher) in eight lanes: element i of a span in lane i mod 8, a last partial group padded with
/// zeros, and the lanes added as ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)). One order of operations, so the same bits
/// on every CPU (on one without AVX2 the same IEEE operations run emulated, lane by lane), and the same for any export
/// chunk size (the statistics' chunks are fixed). Why lanes: one sum added element by element is a chain of dependent
/// additions, each waiting for the one before; eight lanes in two vectors keep two additions in flight per sum.
/// </summary>
public static class LaneSums
{
    private const int Lanes = 8;

    /// <summary>The two values a product is formed from, given the two spans' values (and a base's).</summary>
    public interface IPairForm
    {
        static abstract (Vector256<float> A, Vector256<float> B) Form(Vector256<float> a, Vector256<float> b, Vector256<float> @base);
    }

    /// <summary>The values as they are.</summary>
    public readonly struct AsGiven : IPairForm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<float> A, Vector256<float> B) Form(Vector256<float> a, Vector256<float> b, Vector256<float> @base) => (a, b);
    }

    /// <summary>Base + each (two models' values from their deltas, rounded to float32 as stored).</summary>
    public readonly struct BaseAdded : IPairForm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<float> A, Vector256<float> B) Form(Vector256<float> a, Vector256<float> b, Vector256<float> @base) => (@base + a, @base + b);
    }

    /// <summary>The first, and the first + the second (a base and a model's values from its delta).</summary>
    public readonly struct SecondAddsFirst : IPairForm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<float> A, Vector256<float> B) Form(Vector256<float> a, Vector256<float> b, Vector256<float> @base) => (a, a + b);
    }

    /// <summary>Σ A·A, Σ B·B and Σ A·B over the elements, A and B as <typeparamref name="TForm"/> forms them.</summary>
    /// <param name="base">The base's values for <see cref="BaseAdded"/>; empty otherwise.</param>
    [MethodImpl(HotLoop.Options)]
    public static (double AA, double BB, double AB) Products<TForm>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> @base = default)
        where TForm : struct, IPairForm
    {
        Check(a, b, @base);
        var (aaLow, aaHigh, bbLow, bbHigh, abLow, abHigh) = (Vector256<double>.Zero, Vector256<double>.Zero, Vector256<double>.Zero, Vector256<double>.Zero, Vector256<double>.Zero, Vector256<double>.Zero);
        int full = a.Length - a.Length % Lanes;
        for (int i = 0; i <= full; i += Lanes)
        {
            var (x, y) = i < full ? TForm.Form(Load(a, i), Load(b, i), @base.IsEmpty ? default : Load(@base, i)) : TailForm<TForm>(a, b, @base, full);
            var (xLow, xHigh) = Vector256.Widen(x);
            var (yLow, yHigh) = Vector256.Widen(y);
            aaLow += xLow * xLow;
            aaHigh += xHigh * xHigh;
            bbLow += yLow * yLow;
            bbHigh += yHigh * yHigh;
            abLow += xLow * yLow;
            abHigh += xHigh * yHigh;
        }
        return (Combine(aaLow, aaHigh), Combine(bbLow, bbHigh), Combine(abLow, abHigh));
    }

    /// <summary>
    /// The six sums of three tensors' products (A·A, B·B, C·C, A·B, A·C, B·C) in one walk, A, B and C as
    /// <typeparamref name="TForm"/> forms them (C as it forms the first of a pair); each in the lanes of the others.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    public static (double AA, double BB, double CC, double AB, double AC, double BC) ProductsOfThree<TForm>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c,
        ReadOnlySpan<float> @base = default)
        where TForm : struct, IPairForm
    {
        Check(a, b, @base);
        Check(a, c, @base);
        // Each sum's two halves in registers of their own (in memory, every addition would wait on a store).
        Vector256<double> aaLow = default, aaHigh = default, bbLow = default, bbHigh = default, ccLow = default, ccHigh = default,
            abLow = default, abHigh = default, acLow = default, acHigh = default, bcLow = default, bcHigh = default;
        int full = a.Length - a.Length % Lanes;
        for (int i = 0; i <= full; i += Lanes)
        {
            var (x, y) = i < full ? TForm.Form(Load(a, i), Load(b, i), @base.IsEmpty ? default : Load(@base, i)) : TailForm<TForm>(a, b, @base, full);
            var z = (i < full ? TForm.Form(Load(c, i), default, @base.IsEmpty ? default : Load(@base, i)) : TailForm<TForm>(c, c, @base, full)).Item1;
            var (xLow, xHigh) = Vector256.Widen(x);
            var (yLow, yHigh) = Vector256.Widen(y);
            var (zLow, zHigh) = Vector256.Widen(z);
            aaLow += xLow * xLow;
            aaHigh += xHigh * xHigh;
            bbLow += yLow * yLow;
            bbHigh += yHigh * yHigh;
            ccLow += zLow * zLow;
            ccHigh += zHigh * zHigh;
            abLow += xLow * yLow;
            abHigh += xHigh * yHigh;
            acLow += xLow * zLow;
            acHigh += xHigh * zHigh;
            bcLow += yLow * zLow;
            bcHigh += yHigh * zHigh;
        }
        return (Combine(aaLow, aaHigh), Combine(bbLow, bbHigh), Combine(ccLow, ccHigh), Combine(abLow, abHigh), Combine(acLow, acHigh), Combine(bcLow, bcHigh));
    }

    /// <summary>Σ A·B over the elements, A and B as <typeparamref name="TForm"/> forms them.</summary>
    [MethodImpl(HotLoop.Options)]
    public static double Product<TForm>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> @base = default)
        where TForm : struct, IPairForm
    {
        Check(a, b, @base);
        var (low, high) = (Vector256<double>.Zero, Vector256<double>.Zero);
        int full = a.Length - a.Length % Lanes;
        for (int i = 0; i <= full; i += Lanes)
        {
            var (x, y) = i < full ? TForm.Form(Load(a, i), Load(b, i), @base.IsEmpty ? default : Load(@base, i)) : TailForm<TForm>(a, b, @base, full);
            var (xLow, xHigh) = Vector256.Widen(x);
            var (yLow, yHigh) = Vector256.Widen(y);
            low += xLow * yLow;
            high += xHigh * yHigh;
        }
        return Combine(low, high);
    }

    /// <summary>The last partial group's pair, every span padded with zeros (products of 0 add exactly 0 to a lane).</summary>
    private static (Vector256<float>, Vector256<float>) TailForm<TForm>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> @base, int start)
        where TForm : struct, IPairForm
    {
        if (start == a.Length) return (default, default);
        return TForm.Form(Padded(a[start..]), Padded(b[start..]), @base.IsEmpty ? default : Padded(@base[start..]));
    }

    private static Vector256<float> Padded(ReadOnlySpan<float> last)
    {
        Span<float> lanes = stackalloc float[Lanes];
        lanes.Clear();
        last.CopyTo(lanes);
        return Vector256.Create<float>(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(ReadOnlySpan<float> values, int at) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(values), (nuint)at);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Combine(Vector256<double> low, Vector256<double> high) =>
        ((low.GetElement(0) + low.GetElement(1)) + (low.GetElement(2) + low.GetElement(3))) + ((high.GetElement(0) + high.GetElement(1)) + (high.GetElement(2) + high.GetElement(3)));

    private static void Check(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> @base)
    {
        if (a.Length != b.Length || !@base.IsEmpty && @base.Length != a.Length)
            throw new ArgumentException($"{a.Length} and {b.Length} values{(@base.IsEmpty ? "" : $" over {@base.Length}")}", nameof(b));
    }
}
