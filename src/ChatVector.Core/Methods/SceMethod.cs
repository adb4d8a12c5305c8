using ChatVector.Core.Kernels;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>sce</c> (Select, Calculate, Erase). Select: with <c>select_topk</c> &lt; 1, only the elements whose
/// variance across the task vectors is among the top k = ⌊select_topk × (elements of nonzero variance)⌋ stay (the exact
/// order of <see cref="MagnitudeOrder"/>, ties by index, found by <see cref="ExactSelection"/>). Calculate: model i's
/// weight is the mean square of its selected δᵢ, normalized to sum 1 (equal when all are 0). Erase: per element, the
/// majority sign is that of Σ δᵢ; the δᵢ of the other sign are dropped. Result: base + Σ wᵢ·δᵢ over the kept / Σ wᵢ over
/// the kept (1 when none). Statistics: the variance threshold (the selection's passes, whose first also counts the zero variances), then the
/// weights (one more pass).
/// </summary>
public sealed class SceMethod : ElementwiseMethod
{
    public override string Name => "sce";
    public override string Description => "the elements of most variance across the task vectors, weighted by each vector's energy, majority sign";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("select_topk", 1.0, ParameterScope.Merge, "the share of the elements of nonzero variance kept", 0, 1),
        MethodParameter.Boolean("int8_mask", false, "mergekit's memory saving for its masks; accepted, changes nothing here"),
    ];

    /// <summary>[0] whether a selection applies (1) or not (0), [1] its threshold's key, [2] its index, then the N weights.</summary>
    public override int StatisticCount(MethodInputs inputs) => 3 + inputs.Vectors.Count;

    public override double[] GatherStatistics(MethodInputs inputs, StatisticsPasses pass)
    {
        int n = inputs.Vectors.Count;
        var statistics = new double[StatisticCount(inputs)];
        double topk = inputs.Parameters.Number("select_topk");
        var threshold = OrderPoint.First;
        var variances = ScratchArrays<float>.Rent(pass.ChunkElements);
        try
        {
            if (topk < 1)
            {
                threshold = SelectThreshold(pass, Math.Abs(topk), variances);
                statistics[0] = 1;
            }
            statistics[1] = threshold.Key;
            statistics[2] = threshold.Index;
            var squares = new double[n];
            var selected = ScratchArrays<float>.Rent(pass.ChunkElements * Math.Min(n, 2));
            var zeros = ScratchArrays<float>.Rent(pass.ChunkElements);
            try
            {
                Array.Clear(zeros);
                pass.ForEachChunk(chunk => AddSelectedSquares(chunk, ChunkSelection.Of(statistics, chunk), variances, zeros, selected, squares));
            }
            finally
            {
                ScratchArrays<float>.Return(selected);
                ScratchArrays<float>.Return(zeros);
            }
            double total = squares.Sum(s => s / pass.ElementCount);
            for (int i = 0; i < n; i++) statistics[3 + i] = total == 0 ? 1.0 / n : squares[i] / pass.ElementCount / total;
            return statistics;
        }
        finally
        {
            ScratchArrays<float>.Return(variances);
        }
    }

    /// <summary>
    /// Adds each vector's squares over the chunk's selected elements to <paramref name="squares"/>, in float64, the
    /// chunk's sums in lanes (<see cref="LaneSums"/>). The dropped elements are zeroed in a copy (a +0 added to a sum of
    /// squares leaves its bits), so that two vectors' sums run in one walk.
    /// </summary>
    private static void AddSelectedSquares(ChunkValues chunk, ChunkSelection selection, float[] variances, float[] zeros, float[] selected, double[] squares)
    {
        int n = chunk.VectorCount, length = chunk.Length;
        if (!selection.All) Variances(chunk, variances);
        ReadOnlySpan<float> Selected(int i, int slot)
        {
            if (selection.All) return chunk.Vector(i);
            var copy = selected.AsSpan(slot * length, length);
            chunk.Vector(i).CopyTo(copy);
            MethodKernels.RestoreBelow(variances.AsSpan(0, length), selection.Key, selection.FirstKeptAtKey, zeros.AsSpan(0, length), copy);
            return copy;
        }
        if (n == 2)
        {
            var (first, second, _) = LaneSums.Products<LaneSums.AsGiven>(Selected(0, 0), Selected(1, 1));
            squares[0] += first;
            squares[1] += second;
            return;
        }
        for (int i = 0; i < n; i++)
        {
            var values = Selected(i, 0);
            squares[i] += LaneSums.Product<LaneSums.AsGiven>(values, values);
        }
    }

    /// <summary>
    /// Where the top k = ⌊<paramref name="topk"/> × (elements of nonzero variance)⌋ of the variances' magnitude order
    /// begin (<see cref="OrderPoint.End"/> when k is 0); the selection's first pass counts the zero variances.
    /// </summary>
    private static OrderPoint SelectThreshold(StatisticsPasses pass, double topk, float[] variances) =>
        ExactSelection.SelectTopShareOfNonzero(pass.ElementCount, topk, (start, keys) =>
        {
            pass.Read(start, keys.Length, chunk => Variances(chunk, variances));
            MagnitudeOrder.Keys(variances.AsSpan(0, keys.Length), keys);
        }, pass.ChunkElements, parallelism: 1);

    /// <summary>
    /// torch.var(deltas, dim=0, unbiased=False) of each element of the chunk, in float32 as mergekit computes it, into
    /// <paramref name="variances"/> (at least the chunk's length); the chunk's part of it.
    /// </summary>
    private static ReadOnlySpan<float> Variances(ChunkValues chunk, float[] variances)
    {
        int n = chunk.VectorCount;
        var result = variances.AsSpan(0, chunk.Length);
        if (n == 2)
        {
            MethodKernels.VarianceOfTwo(chunk.Vector(0), chunk.Vector(1), result);
            return result;
        }
        for (int e = 0; e < result.Length; e++)
        {
            float sum = 0f;
            for (int i = 0; i < n; i++) sum += chunk.Vector(i)[e];
            float mean = sum / n, squares = 0f;
            for (int i = 0; i < n; i++)
            {
                float d = chunk.Vector(i)[e] - mean;
                squares += d * d;
            }
            result[e] = squares / n;
        }
        return result;
    }

    /// <summary>
    /// Which elements of one chunk the select step keeps: all, or those whose variance's key is above the threshold's,
    /// or equal to it at an index from <see cref="FirstKeptAtKey"/> on (the threshold's index as the chunk's own, clamped).
    /// </summary>
    private readonly record struct ChunkSelection(bool All, uint Key, int FirstKeptAtKey)
    {
        public static ChunkSelection Of(ReadOnlySpan<double> statistics, ChunkValues chunk) =>
            new(statistics[0] == 0, (uint)statistics[1], (int)Math.Clamp((long)statistics[2] - chunk.FirstElement, 0, chunk.Length));
    }

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        int n = chunk.VectorCount;
        var selection = ChunkSelection.Of(statistics, chunk);
        // With every element kept (select_topk 1, mergekit's default) the variances are never read: not computed.
        var variances = selection.All ? null : ScratchArrays<float>.Rent(chunk.Length);
        try
        {
            var v = variances is null ? default : Variances(chunk, variances);
            if (n == 2) MethodKernels.SignElectedPair(chunk.Base, chunk.Vector(0), chunk.Vector(1), (float)statistics[3], (float)statistics[4], output);
            else SignElected(chunk, statistics[3..], output);
            // The elements the select step drops keep the base's value.
            if (!selection.All) MethodKernels.RestoreBelow(v, selection.Key, selection.FirstKeptAtKey, chunk.Base, output);
        }
        finally
        {
            if (variances is not null) ScratchArrays<float>.Return(variances);
        }
    }

    /// <summary>
    /// The calculate and erase steps for any number of task vectors, per element: the majority sign is that of Σ δᵢ (≥ 0
    /// positive), the δᵢ of that sign count with their weights, output = x0 + Σ wᵢ·δᵢ / Σ wᵢ over them (the divisor 1
    /// when none counts); <see cref="MethodKernels.SignElectedPair"/> for two.
    /// </summary>
    private static void SignElected(ChunkValues chunk, ReadOnlySpan<double> weights, Span<float> output)
    {
        int n = chunk.VectorCount;
        var x0 = chunk.Base;
        for (int e = 0; e < chunk.Length; e++)
        {
            float sum = 0f;
            for (int i = 0; i < n; i++) sum += chunk.Vector(i)[e];
            bool positive = sum >= 0;
            float mixed = 0f, divisor = 0f;
            for (int i = 0; i < n; i++)
            {
                float delta = chunk.Vector(i)[e];
                float kept = (positive ? delta > 0 : delta < 0) ? (float)weights[i] : 0f;
                mixed += delta * kept;
                divisor += kept;
            }
            output[e] = x0[e] + mixed / (divisor == 0 ? 1f : divisor);
        }
    }
}
