using ChatVector.Core.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Sparsify;

public class ExactSelectionTests
{
    [Fact]
    public void Finds_every_position_of_the_order_a_full_sort_gives()
    {
        var values = SparsifyFixture.Bf16Like(2_000, seed: 11, distinctExponents: 3);
        values[5] = float.PositiveInfinity;
        values[6] = -0f;
        var order = SparsifyFixture.SortedOrder(values);
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var positions = new long[] { 0, 1, 199, 1000, 1001, 1999 };
        var points = ExactSelection.Select(values.Length, positions, (s, n) => keys.AsSpan((int)s, n).ToArray(), chunkElements: 64);
        for (int t = 0; t < positions.Length; t++)
        {
            int expectedIndex = order[positions[t]];
            Assert.Equal(new OrderPoint(MagnitudeOrder.Key(values[expectedIndex]), expectedIndex), points[t]);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Several_threads_find_the_positions_a_full_sort_gives(int parallelism)
    {
        // Many equal magnitudes over many chunks: pass 3 then counts ties per chunk on the threads.
        var values = SparsifyFixture.Bf16Like(5_000, seed: 13, distinctExponents: 1);
        var order = SparsifyFixture.SortedOrder(values);
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var positions = new long[] { 1, 2_500, 4_999 };
        var points = ExactSelection.Select(values.Length, positions, (s, destination) => keys.AsSpan((int)s, destination.Length).CopyTo(destination),
            chunkElements: 37, parallelism);
        for (int t = 0; t < positions.Length; t++)
        {
            int expectedIndex = order[positions[t]];
            Assert.Equal(new OrderPoint(MagnitudeOrder.Key(values[expectedIndex]), expectedIndex), points[t]);
        }
    }

    /// <summary>
    /// Tensors larger than the candidate bound: pass 1 collects a band around each position's sampled estimate and
    /// answers from it; a sample that misleads, or a band over the bound, falls back to passes 2 and 3. Each way the
    /// answer is the full sort's.
    /// </summary>
    [Theory]
    [InlineData(30_000, "sampled band", 2)]
    [InlineData(10, "band over the bound", 2)]
    [InlineData(30_000, "misleading sample", 2)]
    [InlineData(30_000, "misleading sample", 1)]
    public void Tensors_above_the_candidate_bound_give_the_positions_a_full_sort_gives(int maxCandidates, string situation, int parallelism)
    {
        var values = SparsifyFixture.Bf16Like(40_000, seed: 17, distinctExponents: 2);
        var reads = new List<int>();
        if (situation == "misleading sample")
        {
            // The sample's spans (64 evenly spaced runs of 64) see only large values; the rest is small, so the true
            // 70% point lies far below the band the sample suggests.
            for (int i = 0; i < values.Length; i++) values[i] = (i % 625) < 64 ? 100f + (i % 7) : values[i] * 1e-3f;
        }
        var order = SparsifyFixture.SortedOrder(values);
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        long[] positions = [28_000, 39_600];
        var points = ExactSelection.Select(values.Length, positions, (s, destination) =>
        {
            lock (reads) reads.Add(destination.Length);
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 1000, parallelism, maxCandidates: maxCandidates);
        for (int t = 0; t < positions.Length; t++)
        {
            int expectedIndex = order[positions[t]];
            Assert.Equal(new OrderPoint(MagnitudeOrder.Key(values[expectedIndex]), expectedIndex), points[t]);
        }
        Assert.Equal(64, reads.Count(length => length == 64)); // the sample's spans: the band, not the whole tensor, was collected
        int chunkReads = reads.Count(length => length == 1000);
        if (situation == "sampled band") Assert.Equal(40, chunkReads); // one pass, answered from the band
        else Assert.True(chunkReads >= 80, $"{chunkReads} chunk reads: passes 2 and 3 were expected"); // the fallback ran
    }

    [Fact]
    public void Key_order_is_magnitude_order()
    {
        float[] ascending = [0f, float.Epsilon, 1e-30f, 0.5f, 1f, 3e38f, float.PositiveInfinity];
        var keys = ascending.Select(MagnitudeOrder.Key).ToArray();
        Assert.Equal(keys.Order(), keys);
        Assert.Equal(MagnitudeOrder.Key(-0.5f), MagnitudeOrder.Key(0.5f));
        Assert.Equal(MagnitudeOrder.Key(-0f), MagnitudeOrder.Key(0f));
    }

    [Fact]
    public void Positions_outside_the_tensor_are_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ExactSelection.Select(3, [3], (_, n) => new uint[n], 2));
}
