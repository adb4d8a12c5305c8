using ChatVector.Core.Statistics;
using CsCheck;
using Xunit;

namespace ChatVector.Core.Tests.Statistics;

/// <summary>Chunk-by-chunk statistics against the same figures computed in one two-pass sweep over all values.</summary>
public sealed class TensorStatisticsTests
{
    /// <summary>What a caller adds per chunk: finite-value mean and M2 of that chunk alone.</summary>
    private static void AddChunk(TensorStatistics statistics, double[] chunk)
    {
        var finite = chunk.Where(double.IsFinite).ToArray();
        double mean = finite.Length == 0 ? 0 : finite.Average();
        statistics.AddChunk(chunk.Length, finite.Length, chunk.Count(double.IsNaN), chunk.Count(double.IsInfinity),
            zeros: finite.Count(v => v == 0), chunkMean: mean, chunkM2: finite.Sum(v => (v - mean) * (v - mean)),
            sumOfSquares: finite.Sum(v => v * v), min: finite.DefaultIfEmpty(0).Min(), max: finite.DefaultIfEmpty(0).Max());
    }

    private static void AssertMatchesTwoPass(double[] all, TensorStatistics statistics)
    {
        var finite = all.Where(double.IsFinite).ToArray();
        double mean = finite.Average();
        double variance = finite.Sum(v => (v - mean) * (v - mean)) / finite.Length;
        Assert.Equal(all.Length, statistics.Elements);
        Assert.Equal(finite.Length, statistics.Finite);
        Assert.Equal(all.Count(double.IsNaN), statistics.NaNCount);
        Assert.Equal(all.Count(double.IsInfinity), statistics.InfCount);
        Assert.Equal(mean, statistics.FiniteMean, 1e-9);
        Assert.Equal(Math.Sqrt(variance), statistics.Std, 1e-9);
        Assert.Equal(finite.Min(), statistics.FiniteMin);
        Assert.Equal(finite.Max(), statistics.FiniteMax);
        Assert.Equal(Math.Sqrt(finite.Sum(v => v * v)), statistics.L2Norm, 1e-9);
        Assert.Equal(Math.Sqrt(finite.Sum(v => v * v) / finite.Length), statistics.Rms, 1e-9);
        Assert.Equal(finite.Max(Math.Abs), statistics.MaxAbs);
        Assert.Equal((double)finite.Count(v => v == 0) / all.Length, statistics.ZeroFraction, 1e-12);
    }

    [Fact]
    public void Chunks_of_any_size_combine_to_the_two_pass_figures() =>
        Gen.Select(Gen.Double[-1000, 1000].Array[1, 200], Gen.Int[1, 50]).Sample((values, chunk) =>
        {
            var statistics = new TensorStatistics();
            foreach (var part in values.Chunk(chunk)) AddChunk(statistics, part);
            AssertMatchesTwoPass(values, statistics);
        });

    [Fact]
    public void NaN_and_Inf_are_counted_apart_and_left_out_of_the_figures()
    {
        double[] values = [1, double.NaN, 0, -3, double.PositiveInfinity, 2, double.NegativeInfinity, 0];
        var statistics = new TensorStatistics();
        foreach (var part in values.Chunk(3)) AddChunk(statistics, part);
        AssertMatchesTwoPass(values, statistics);
    }

    [Fact]
    public void Add_folds_whole_tensors_as_if_they_were_one()
    {
        double[] a = [1, 2, 3, 4], b = [-10, 0.5, double.NaN];
        TensorStatistics first = new(), second = new(), total = new();
        AddChunk(first, a);
        AddChunk(second, b);
        first.AddReference(3, 4);
        second.AddReference(5, 6);
        total.Add(first);
        total.Add(second);
        AssertMatchesTwoPass([.. a, .. b], total);
        Assert.Equal((8.0, 10.0), (total.Dot, total.ReferenceSumOfSquares));
        Assert.False(total.HasBase);
    }

    [Fact]
    public void Nothing_finite_gives_NaN_figures_not_running_defaults()
    {
        var statistics = new TensorStatistics();
        AddChunk(statistics, [double.NaN, double.PositiveInfinity]);
        Assert.True(double.IsNaN(statistics.FiniteMean));
        Assert.True(double.IsNaN(statistics.FiniteMin));
        Assert.True(double.IsNaN(statistics.FiniteMax));
        Assert.True(double.IsNaN(statistics.Std));
        Assert.True(double.IsNaN(statistics.MaxAbs));
        Assert.Equal(0, statistics.L2Norm);
        Assert.True(double.IsNaN(new TensorStatistics().ZeroFraction)); // no element at all
    }

    [Fact]
    public void Cosine_and_relative_norm_exist_only_when_a_reference_or_base_was_given()
    {
        var statistics = new TensorStatistics();
        AddChunk(statistics, [3, 4]); // |x| = 5
        Assert.Null(statistics.Cosine);
        Assert.Null(statistics.RelativeNorm);

        statistics.AddReference(dot: 3 * 6 + 4 * 8, referenceSumOfSquares: 100); // y = (6, 8): same direction
        statistics.AddBase(baseSumOfSquares: 100); // |b| = 10
        Assert.Equal(1.0, statistics.Cosine!.Value, 1e-12);
        Assert.Equal(0.5, statistics.RelativeNorm!.Value, 1e-12);
    }
}
