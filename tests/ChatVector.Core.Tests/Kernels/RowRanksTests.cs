using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>Each key's rank in a row against a stable sort of the row (ties by position), the independent expectation.</summary>
public class RowRanksTests
{
    private static int[] StableSortRanks(uint[] keys)
    {
        var order = Enumerable.Range(0, keys.Length).OrderBy(j => keys[j]).ThenBy(j => j).ToArray();
        var ranks = new int[keys.Length];
        for (int rank = 0; rank < order.Length; rank++) ranks[order[rank]] = rank;
        return ranks;
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(5, false)]
    [InlineData(17, false)]
    [InlineData(4_096, false)]
    [InlineData(11_011, false)]
    [InlineData(5, true)]
    [InlineData(4_099, true)]
    public void Ranks_are_those_of_a_stable_sort(int length, bool lowBits)
    {
        var random = new Random(length + (lowBits ? 1 : 0));
        // A chat vector's magnitudes: a few dozen distinct values, most of them tied many times, and zeros.
        var distinct = Enumerable.Range(0, 40).Select(_ => (uint)random.Next(0x3000, 0x3F80) << 16).Append(0u).ToArray();
        var keys = Enumerable.Range(0, length).Select(_ => distinct[random.Next(distinct.Length)] | (lowBits ? (uint)random.Next(1 << 16) : 0)).ToArray();
        var rowRanks = new RowRanks();
        var ranks = new int[length];
        // Twice on one instance: its counters are left clean for the next row.
        for (int pass = 0; pass < 2; pass++)
        {
            rowRanks.Rank(keys, ranks);
            Assert.Equal(StableSortRanks(keys), ranks);
        }
    }
}
