using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ChatVector.Core.Kernels;

/// <summary>
/// arcee_fusion's divergence of one row: Σ p·log(p/q), p and q the softmax of the row x0 + δ and of x0, each plus ε,
/// in float64 (each exponential times the reciprocal of their sum, within half a unit of the division). Four elements at a time with <see cref="PortableMath"/>'s exp and log; each sum is kept in four lanes
/// (element j in lane j mod 4, a last partial vector padded with elements that add exactly 0) and the lanes added as
/// (0 + 1) + (2 + 3): one order of operations, so the same bits on every CPU whatever its vector width.
/// </summary>
public static class SoftmaxDivergence
{
    private const int Lanes = 4;

    /// <param name="x0">The base's row.</param>
    /// <param name="delta">The other model's change of it.</param>
    /// <param name="epsilon">Added to each probability (mergekit's 1e-8).</param>
    /// <param name="expP">Scratch of the row's length: each exp(x0 + δ − max) between the two walks.</param>
    /// <param name="expQ">Scratch of the row's length: each exp(x0 − max).</param>
    [MethodImpl(HotLoop.Options)]
    public static double Of(ReadOnlySpan<float> x0, ReadOnlySpan<float> delta, double epsilon, Span<double> expP, Span<double> expQ)
    {
        int n = x0.Length;
        if (delta.Length != n || expP.Length < n || expQ.Length < n) throw new ArgumentException("the row, its change and the scratch must have one length");
        var (maxSum, maxBase) = MethodKernels.Maxima(x0, delta);
        var maxP = Vector256.Create((double)maxSum);
        var maxQ = Vector256.Create((double)maxBase);

        // First walk: the exponentials, kept, and their sums.
        var sumP = Vector256<double>.Zero;
        var sumQ = Vector256<double>.Zero;
        int full = n - n % Lanes;
        ref float x0Start = ref MemoryMarshal.GetReference(x0);
        ref float deltaStart = ref MemoryMarshal.GetReference(delta);
        for (int j = 0; j < full; j += Lanes)
        {
            var (p, q) = Exponentials(Vector128.LoadUnsafe(ref x0Start, (nuint)j), Vector128.LoadUnsafe(ref deltaStart, (nuint)j), maxP, maxQ);
            p.StoreUnsafe(ref MemoryMarshal.GetReference(expP), (nuint)j);
            q.StoreUnsafe(ref MemoryMarshal.GetReference(expQ), (nuint)j);
            sumP += p;
            sumQ += q;
        }
        // The last elements padded with x0 = −∞, whose exponentials are 0.
        var (tailP, tailQ) = (Vector256<double>.Zero, Vector256<double>.Zero);
        if (full < n)
        {
            (tailP, tailQ) = Exponentials(Padded(x0[full..], float.NegativeInfinity), Padded(delta[full..], 0), maxP, maxQ);
            sumP += tailP;
            sumQ += tailQ;
        }
        // Multiplied by the sums' reciprocals rather than divided by the sums: a division takes several times a
        // multiplication's throughput, and this walk's other two (p/q and the logarithm's) cannot be spared.
        var inverseP = Vector256.Create(1 / LaneSum(sumP));
        var inverseQ = Vector256.Create(1 / LaneSum(sumQ));

        // Second walk: p = e_p·(1/Σ) + ε, q likewise, each p·log(p/q) added in its lane. A padded lane's p and q are both
        // ε, whose log ratio is exactly 0.
        var eps = Vector256.Create(epsilon);
        var divergence = Vector256<double>.Zero;
        for (int j = 0; j < full; j += Lanes)
            divergence += Term(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(expP), (nuint)j), Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(expQ), (nuint)j), inverseP, inverseQ, eps);
        if (full < n) divergence += Term(tailP, tailQ, inverseP, inverseQ, eps);
        return LaneSum(divergence);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double> P, Vector256<double> Q) Exponentials(Vector128<float> x0, Vector128<float> delta, Vector256<double> maxP, Vector256<double> maxQ)
    {
        var sum = x0 + delta; // the other model's value, in float32 as stored for the merge
        var (a, b) = (Widen(sum) - maxP, Widen(x0) - maxQ);
        // Both ≤ 0 (each row's maximum is subtracted); the shorter exp, of the same bits, when no lane is far below.
        var low = Vector256.Create(PortableMath.InRangeLow);
        return Vector256.GreaterThanOrEqualAll(a, low) && Vector256.GreaterThanOrEqualAll(b, low)
            ? (PortableMath.ExpInRange(a), PortableMath.ExpInRange(b))
            : (PortableMath.Exp(a), PortableMath.Exp(b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Term(Vector256<double> expP, Vector256<double> expQ, Vector256<double> inverseP, Vector256<double> inverseQ, Vector256<double> epsilon)
    {
        var p = expP * inverseP + epsilon;
        var q = expQ * inverseQ + epsilon;
        var ratio = p / q;
        // A small change keeps every ratio near 1, where the shorter log gives the same bits.
        return p * (PortableMath.IsNearOne(ratio) ? PortableMath.LogNearOne(ratio) : PortableMath.Log(ratio));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Widen(Vector128<float> values)
    {
        var (lower, upper) = Vector128.Widen(values);
        return Vector256.Create(lower, upper);
    }

    private static Vector128<float> Padded(ReadOnlySpan<float> last, float padding)
    {
        Span<float> lanes = stackalloc float[Lanes];
        lanes.Fill(padding);
        last.CopyTo(lanes);
        return Vector128.Create<float>(lanes);
    }

    private static double LaneSum(Vector256<double> lanes) => (lanes.GetElement(0) + lanes.GetElement(1)) + (lanes.GetElement(2) + lanes.GetElement(3));
}
