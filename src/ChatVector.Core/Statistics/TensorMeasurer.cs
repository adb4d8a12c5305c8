using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Statistics;

/// <summary>
/// Measures a tensor a chunk at a time in float64 (memory bounded by the chunk, whatever the tensor),
/// optionally against a reference tensor (cosine) and the base a vector came from (relative norm).
/// </summary>
public static class TensorMeasurer
{
    public const long DefaultChunkElements = 1 << 21;

    public static TensorStatistics Measure(ITensorSource tensor, ComputeContext context, ITensorSource? reference = null, ITensorSource? @base = null, long chunkElements = DefaultChunkElements)
    {
        var statistics = new TensorStatistics();
        for (long first = 0; first < tensor.ElementCount; first += chunkElements)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            long count = Math.Min(chunkElements, tensor.ElementCount - first);
            using var scope = torch.NewDisposeScope();
            var values = tensor.ReadChunk(first, count, context).to(torch.float64);
            AddValues(statistics, values);
            if (reference is not null)
            {
                var other = Finite(reference.ReadChunk(first, count, context).to(torch.float64));
                var mine = Finite(values);
                statistics.AddReference(mine.mul(other).sum().item<double>(), other.square().sum().item<double>());
            }
            if (@base is not null)
                statistics.AddBase(Finite(@base.ReadChunk(first, count, context).to(torch.float64)).square().sum().item<double>());
        }
        return statistics;
    }

    /// <summary>The first <paramref name="count"/> values as doubles, for a preview at the prompt.</summary>
    public static double[] FirstValues(ITensorSource tensor, int count, ComputeContext context)
    {
        long n = Math.Min(count, tensor.ElementCount);
        if (n == 0) return [];
        using var scope = torch.NewDisposeScope();
        return tensor.ReadChunk(0, n, context).to(torch.float64).cpu().data<double>().ToArray();
    }

    private static void AddValues(TensorStatistics statistics, torch.Tensor values)
    {
        var finiteMask = torch.isfinite(values);
        long elements = values.numel();
        long finite = finiteMask.sum().item<long>();
        long nan = torch.isnan(values).sum().item<long>();
        var kept = finite == elements ? values : values.masked_select(finiteMask);
        if (finite == 0)
        {
            statistics.AddChunk(elements, 0, nan, elements - nan, 0, 0, 0, 0, 0, 0);
            return;
        }
        double mean = kept.mean().item<double>();
        statistics.AddChunk(
            elements, finite, nan, elements - finite - nan,
            zeros: kept.eq(0).sum().item<long>(),
            chunkMean: mean,
            chunkM2: kept.sub(mean).square().sum().item<double>(),
            sumOfSquares: kept.square().sum().item<double>(),
            min: kept.min().item<double>(),
            max: kept.max().item<double>());
    }

    /// <summary>Non-finite values count as zero in dot products and norms, so one NaN does not hide the rest.</summary>
    private static torch.Tensor Finite(torch.Tensor values) => torch.where(torch.isfinite(values), values, torch.zeros_like(values));
}
