using ChatVector.Core.Kernels;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>model_stock</c> (Model Stock): with N ≥ 2 models besides the base, cos θ is the mean over pairs of the
/// cosines between their task vectors δᵢ (each dot product over the norms' product, that product at least 1e-6, then
/// clamped to [−1, 1]); t = N·cos θ / (1 + (N − 1)·cos θ); the result t·mean(xᵢ) + (1 − t)·x₀. With
/// <c>filter_wise</c>, θ and t per row (the last dimension) instead of per tensor. Statistics: each δᵢ's squared norm
/// and each pair's dot product, per tensor or per row.
/// </summary>
public sealed class ModelStockMethod : ElementwiseMethod
{
    public override string Name => "model_stock";
    public override VocabularyRowRule VocabularyRows => VocabularyRowRule.CommonRows;
    public override string Description => "the average of the models pulled towards the base by the angle between their task vectors";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
        [MethodParameter.Boolean("filter_wise", false, "one angle per row instead of per tensor")];

    public override int MinimumModelCount => 2;

    public override int StatisticCount(MethodInputs inputs) => Groups(inputs) * PerGroup(inputs.Vectors.Count);

    /// <summary>Per group (the tensor, or a row): N squared norms, then the N(N − 1)/2 pairs' dot products.</summary>
    private static int PerGroup(int n) => n + n * (n - 1) / 2;

    private static long RowLength(MethodInputs inputs) => inputs.Base.Shape.Length == 0 ? 1 : inputs.Base.Shape[^1];

    private static int Groups(MethodInputs inputs) =>
        inputs.Parameters.Boolean("filter_wise") ? checked((int)(inputs.Base.ElementCount / Math.Max(1, RowLength(inputs)))) : 1;

    /// <summary>Elements per group: a row with <c>filter_wise</c>, else the whole tensor (read once per call, not per element).</summary>
    private static long GroupLength(MethodInputs inputs) =>
        inputs.Parameters.Boolean("filter_wise") ? Math.Max(1, RowLength(inputs)) : long.MaxValue;

    public override void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs)
    {
        int n = chunk.VectorCount, stride = PerGroup(n);
        long groupLength = GroupLength(inputs);
        // Group by group (a row, or the chunk), each sum over the group's part of the chunk in lanes (LaneSums), added
        // to the group's total so far.
        for (int start = 0; start < chunk.Length;)
        {
            long group = (chunk.FirstElement + start) / groupLength;
            int end = (int)Math.Min(chunk.Length, (group + 1) * groupLength - chunk.FirstElement);
            var groupSums = sums.Slice((int)group * stride, stride);
            if (n == 2)
            {
                // Both squared norms and the dot product in one walk.
                var (aa, bb, ab) = LaneSums.Products<LaneSums.AsGiven>(chunk.Vector(0)[start..end], chunk.Vector(1)[start..end]);
                groupSums[0] += aa;
                groupSums[1] += bb;
                groupSums[2] += ab;
                start = end;
                continue;
            }
            int pair = n;
            for (int a = 0; a < n; a++)
            {
                var da = chunk.Vector(a)[start..end];
                groupSums[a] += LaneSums.Product<LaneSums.AsGiven>(da, da);
                for (int b = a + 1; b < n; b++) groupSums[pair++] += LaneSums.Product<LaneSums.AsGiven>(da, chunk.Vector(b)[start..end]);
            }
            start = end;
        }
    }

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        int n = chunk.VectorCount, stride = PerGroup(n);
        long groupLength = GroupLength(inputs);
        var x0 = chunk.Base;
        for (int start = 0; start < chunk.Length;)
        {
            long group = (chunk.FirstElement + start) / groupLength;
            int end = (int)Math.Min(chunk.Length, (group + 1) * groupLength - chunk.FirstElement);
            float t = Ratio(statistics.Slice((int)group * stride, stride), n);
            // 0 + x₁ + x₂ + … (each xₐ = x₀ + δₐ), then t·(sum / n) + (1 − t)·x₀: for two models in one walk.
            if (n == 2)
            {
                MethodKernels.PullPairTowards(x0[start..end], chunk.Vector(0)[start..end], chunk.Vector(1)[start..end], t, output[start..end]);
                start = end;
                continue;
            }
            var sum = output[start..end];
            sum.Clear();
            for (int a = 0; a < n; a++) MethodKernels.AddSum(sum, x0[start..end], chunk.Vector(a)[start..end]);
            MethodKernels.PullTowards(sum, t, n, x0[start..end]);
            start = end;
        }
    }

    /// <summary>t from one group's squared norms and pair dot products.</summary>
    public static float Ratio(ReadOnlySpan<double> sums, int n)
    {
        double cosines = 0;
        int pair = n, pairs = 0;
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++, pairs++)
                cosines += Math.Clamp(sums[pair++] / Math.Max(Math.Sqrt(sums[a]) * Math.Sqrt(sums[b]), 1e-6), -1, 1);
        double cosine = cosines / pairs;
        return (float)(n * cosine / (1 + (n - 1) * cosine));
    }
}
