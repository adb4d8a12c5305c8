using System.Numerics;
using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// DELLA (<see cref="SparsifyMethod.Della"/>), one row (the last dimension) at a time: the row's m elements are ranked
/// 1..m by the magnitude order, and element j stays with probability p = (density − ε) + 2ε·(rank − 1)/(m − 1)
/// (p = density when m = 1), its draw taken from <see cref="CounterRandom"/> at its flat index, divided by p when
/// rescaling (in double, rounded once). No statistics beyond the row. Ranks: <see cref="RowRanks"/>; the draws are
/// compared as integer bits with each rank's <see cref="RandomKeep.Threshold"/>, the probabilities and thresholds tabled
/// once per tensor, since they depend only on the rank.
/// </summary>
internal sealed class DellaDrop : ISparsifyRule
{
    private readonly SparsifyOptions _options;
    private readonly int _rowLength;
    private readonly CounterRandom _random;
    private readonly Lazy<(double[] Probabilities, ulong[] Thresholds)> _byRank;

    /// <summary>
    /// One ranker per thread, kept between calls: its arrays (a 128 KB bucket table, two rows of positions) are on the
    /// large object heap, and a ranker per chunk left hundreds of MB of them for the next full collection.
    /// </summary>
    [ThreadStatic] private static RowRanks? t_ranker;

    public DellaDrop(SparsifyOptions options, SparsifyTarget target)
    {
        if (target.RowLength > Array.MaxLength)
            throw new NotSupportedException($"'{target.Name}': a row of {target.RowLength} elements is too long to rank in memory for Della.");
        _options = options;
        _rowLength = (int)target.RowLength;
        _random = new CounterRandom(options.Seed, target.Name, options.Stream);
        _byRank = new(() => TableByRank(_rowLength, options.Density, options.Epsilon));
    }

    public bool RanksRows => true;
    public bool HasStatistics => false;

    public void GatherStatistics(ComputeContext context) { }

    /// <summary>The keep probability of the element of 1-based rank <paramref name="rank"/> in a row of <paramref name="m"/>.</summary>
    public static double Probability(int rank, int m, double density, double epsilon) =>
        m == 1 ? density : (density - epsilon) + 2 * epsilon * (rank - 1) / (m - 1);

    public void Apply(Span<float> values, long firstElement, ComputeContext context) => ApplyRows(values, firstElement);

    public void Apply(Span<double> values, long firstElement, ComputeContext context) => ApplyRows(values, firstElement);

    private void ApplyRows<T>(Span<T> values, long rowsStart) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = _rowLength;
        if (values.Length % m != 0) throw new ArgumentException($"DELLA ranks whole rows of {m} elements; {values.Length} elements given");
        var (probabilities, thresholds) = _byRank.Value;
        var ranker = t_ranker ??= new RowRanks();
        var keys = ScratchArrays<uint>.Rent(m);
        var ranks = ScratchArrays<int>.Rent(m);
        var draws = ScratchArrays<ulong>.Rent(m);
        try
        {
            for (int rowStart = 0; rowStart < values.Length; rowStart += m)
            {
                var row = values.Slice(rowStart, m);
                if (typeof(T) == typeof(float)) MagnitudeOrder.Keys(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(row), keys.AsSpan(0, m)); // SIMD
                else for (int j = 0; j < m; j++) keys[j] = MagnitudeOrder.Key(float.CreateTruncating(row[j]));
                ranker.Rank(keys.AsSpan(0, m), ranks.AsSpan(0, m));
                _random.Bits53Run(rowsStart + rowStart, draws.AsSpan(0, m));
                RankKeepKernel.Apply(row, ranks, draws, thresholds, _options.Rescale ? probabilities : null);
            }
        }
        finally
        {
            ScratchArrays<uint>.Return(keys);
            ScratchArrays<int>.Return(ranks);
            ScratchArrays<ulong>.Return(draws);
        }
    }

    private static (double[] Probabilities, ulong[] Thresholds) TableByRank(int m, double density, double epsilon)
    {
        var probabilities = new double[m];
        var thresholds = new ulong[m];
        for (int rank = 0; rank < m; rank++)
        {
            probabilities[rank] = Probability(rank + 1, m, density, epsilon);
            thresholds[rank] = RandomKeep.Threshold(probabilities[rank]);
        }
        return (probabilities, thresholds);
    }
}
