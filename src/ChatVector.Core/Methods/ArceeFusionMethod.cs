using ChatVector.Core.Kernels;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>arcee_fusion</c>: the other model's value where its change matters most. Importance of an element:
/// |δ| times the KL divergence of its row's softmax (the other model's, p, against the base's, q, each plus 1e-8:
/// Σ p·log(p/q) over the row, the last dimension). Kept: the elements whose importance reaches median + 1.5·(q3 − q1)
/// of all importances; the others keep the base's value. mergekit takes the quantiles from a random sample of a
/// million importances on large tensors; here they are exact (<see cref="ExactSelection"/>, positions ⌊q·(n − 1)⌋ of
/// the sorted importances), so the bytes do not depend on a draw. Statistics: each row's KL (a pass over whole rows),
/// then the three order points (the selection's passes).
/// </summary>
public sealed class ArceeFusionMethod : ElementwiseMethod
{
    private const double Epsilon = 1e-8;

    public override string Name => "arcee_fusion";
    public override VocabularyRowRule VocabularyRows => VocabularyRowRule.CommonRows;
    public override string Description => "the other model's values where their change, weighted by the row's KL divergence, stands out";
    public override IReadOnlyList<MethodParameter> Parameters { get; } = [];

    public override int? ModelCount => 1;

    private static long RowLength(MethodInputs inputs) => inputs.Base.Shape.Length == 0 ? 1 : inputs.Base.Shape[^1];

    /// <summary>[0] the threshold, then each row's KL.</summary>
    public override int StatisticCount(MethodInputs inputs) => 1 + checked((int)(inputs.Base.ElementCount / Math.Max(1, RowLength(inputs))));

    public override double[] GatherStatistics(MethodInputs inputs, StatisticsPasses pass)
    {
        var statistics = new double[StatisticCount(inputs)];
        long m = RowLength(inputs);
        if (m > int.MaxValue || pass.ElementCount == 0) return statistics;
        // Whole rows a block at a time (one read per block, not per row). The block's importances follow from its rows'
        // divergences at once: their keys go into the selection's first histogram here, instead of a pass of their own.
        long rowsPerRead = Math.Max(1, pass.ChunkElements / m), rows = pass.ElementCount / m;
        var counted = new ExactSelection.KeyHistogram();
        var blockImportances = ScratchArrays<float>.Rent((int)Math.Min(rowsPerRead * m, pass.ElementCount));
        var blockKeys = ScratchArrays<uint>.Rent(blockImportances.Length);
        try
        {
            for (long first = 0; first < rows; first += rowsPerRead)
            {
                long firstRow = first;
                int count = (int)Math.Min(rowsPerRead, rows - first);
                pass.Read(firstRow * m, (int)(count * m), chunk =>
                {
                    for (int r = 0; r < count; r++)
                        statistics[1 + firstRow + r] = RowDivergence(chunk.Base.Slice(r * (int)m, (int)m), chunk.Vector(0).Slice(r * (int)m, (int)m));
                    var importances = blockImportances.AsSpan(0, chunk.Length);
                    var keys = blockKeys.AsSpan(0, chunk.Length);
                    Importances(chunk, statistics.AsSpan(1), m, importances);
                    MagnitudeOrder.Keys(importances, keys);
                    counted.Add(keys);
                });
            }
        }
        finally
        {
            ScratchArrays<float>.Return(blockImportances);
            ScratchArrays<uint>.Return(blockKeys);
        }
        var positions = new[] { 0.25, 0.5, 0.75 }.Select(q => (long)(q * (pass.ElementCount - 1))).Distinct().ToArray();
        var points = ExactSelection.SelectKeys(pass.ElementCount, positions, counted, (start, keys) =>
        {
            var importances = ScratchArrays<float>.Rent(keys.Length);
            try
            {
                pass.Read(start, keys.Length, chunk => Importances(chunk, statistics.AsSpan(1), m, importances));
                MagnitudeOrder.Keys(importances.AsSpan(0, keys.Length), keys);
            }
            finally
            {
                ScratchArrays<float>.Return(importances);
            }
        }, pass.ChunkElements, parallelism: 1);
        float Quantile(double q) => BitConverter.UInt32BitsToSingle(points[Array.IndexOf(positions, (long)(q * (pass.ElementCount - 1)))]);
        statistics[0] = Quantile(0.5) + 1.5f * (Quantile(0.75) - Quantile(0.25));
        return statistics;
    }

    /// <summary>
    /// Σ p·log(p/q) over one row: p, q the softmax of the other model's and the base's row, each plus 1e-8, in float64
    /// with exp, log and sums of the same bits on every CPU (<see cref="SoftmaxDivergence"/>).
    /// </summary>
    private static double RowDivergence(ReadOnlySpan<float> x0, ReadOnlySpan<float> delta)
    {
        var expP = ScratchArrays<double>.Rent(x0.Length);
        var expQ = ScratchArrays<double>.Rent(x0.Length);
        try
        {
            return SoftmaxDivergence.Of(x0, delta, Epsilon, expP, expQ);
        }
        finally
        {
            ScratchArrays<double>.Return(expP);
            ScratchArrays<double>.Return(expQ);
        }
    }

    /// <summary>
    /// Each element's importance, |δ| times its row's KL, into <paramref name="importances"/>: a row's run of elements at a
    /// time, so the row is found once per run, not by a division per element.
    /// </summary>
    private static void Importances(ChunkValues chunk, ReadOnlySpan<double> kl, long rowLength, Span<float> importances)
    {
        var delta = chunk.Vector(0);
        for (int start = 0; start < chunk.Length;)
        {
            long row = (chunk.FirstElement + start) / rowLength;
            int end = (int)Math.Min(chunk.Length, (row + 1) * rowLength - chunk.FirstElement);
            MethodKernels.ScaledMagnitudes(delta[start..end], kl[(int)row], importances[start..end]);
            start = end;
        }
    }

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        float threshold = (float)statistics[0];
        // The importances go into the output first, each then replaced by the element's value.
        Importances(chunk, statistics[1..], RowLength(inputs), output);
        MethodKernels.AddWhereScoreReaches(chunk.Base, chunk.Vector(0), threshold, output);
    }
}
