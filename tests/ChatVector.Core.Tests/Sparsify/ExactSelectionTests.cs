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
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    public void Several_threads_find_the_positions_a_full_sort_gives(int parallelism, bool cacheKeys)
    {
        // Many equal magnitudes over many chunks: pass 3 then counts ties per chunk on the threads.
        var values = SparsifyFixture.Bf16Like(5_000, seed: 13, distinctExponents: 1);
        var order = SparsifyFixture.SortedOrder(values);
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var positions = new long[] { 1, 2_500, 4_999 };
        int reads = 0;
        var points = ExactSelection.Select(values.Length, positions, (s, destination) =>
        {
            Interlocked.Increment(ref reads);
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 37, parallelism, keyCache: cacheKeys ? new uint[values.Length] : null, CancellationToken.None);
        for (int t = 0; t < positions.Length; t++)
        {
            int expectedIndex = order[positions[t]];
            Assert.Equal(new OrderPoint(MagnitudeOrder.Key(values[expectedIndex]), expectedIndex), points[t]);
        }
        int chunks = (5_000 + 36) / 37;
        if (cacheKeys) Assert.Equal(chunks, reads); // one pass reads; the others scan the kept keys
        else Assert.True(reads > 2 * chunks, $"{reads} reads of {chunks} chunks: every pass reads without a cache");
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
