using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>DELLA's keep mask against its element-by-element rule written out here, bit for bit.</summary>
public class RankKeepKernelTests
{
    [Theory]
    [InlineData(5, false)]
    [InlineData(64, false)]
    [InlineData(4_099, false)]
    [InlineData(4_099, true)]
    public void Elements_stay_where_their_draw_lies_below_their_rank_s_threshold(int length, bool divide)
    {
        var random = new Random(length);
        var row = SpecialFloats.Values(length, length);
        var ranks = Enumerable.Range(0, length).OrderBy(_ => random.Next()).ToArray(); // a permutation, as RowRanks gives
        // Draws and thresholds over the whole unsigned range (the top bit set in half of them: an unsigned comparison),
        // with draws equal to their threshold (not kept) and the extremes.
        ulong Draw() => random.Next(8) switch { 0 => 0, 1 => ulong.MaxValue, _ => (ulong)random.NextInt64() << 1 | (ulong)random.Next(2) };
        var thresholds = Enumerable.Range(0, length).Select(_ => Draw()).ToArray();
        var draws = Enumerable.Range(0, length).Select(j => random.Next(6) == 0 ? thresholds[ranks[j]] : Draw()).ToArray();
        var probabilities = divide ? Enumerable.Range(0, length).Select(r => 0.15 + 0.3 * r / length).ToArray() : null;

        var expected = new float[length];
        for (int j = 0; j < length; j++)
        {
            int rank = ranks[j];
            expected[j] = draws[j] < thresholds[rank] ? (probabilities is null ? row[j] : (float)(row[j] / probabilities[rank])) : 0f;
        }
        var actual = (float[])row.Clone();
        RankKeepKernel.Apply<float>(actual, ranks, draws, thresholds, probabilities);
        Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
        Assert.Contains(Enumerable.Range(0, length), j => expected[j] != 0 && !float.IsNaN(expected[j])); // some stay
    }
}
