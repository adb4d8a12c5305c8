using ChatVector.Core.Kernels;
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
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var positions = new long[] { 0, 1, 199, 1000, 1001, 1999 };
        var points = ExactSelection.Select(values.Length, positions, (s, n) => keys.AsSpan((int)s, n).ToArray(), chunkElements: 64);
        Assert.Equal(FullSortPoints(values, positions), points);
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
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var positions = new long[] { 1, 2_500, 4_999 };
        int reads = 0;
        var points = ExactSelection.Select(values.Length, positions, (s, destination) =>
        {
            Interlocked.Increment(ref reads);
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 37, parallelism, keyCache: cacheKeys ? new uint[values.Length] : null, CancellationToken.None);
        Assert.Equal(FullSortPoints(values, positions), points);
        int chunks = (5_000 + 36) / 37;
        if (cacheKeys) Assert.Equal(chunks, reads); // one pass reads; the others scan the kept keys
        else Assert.True(reads > chunks, $"{reads} reads of {chunks} chunks: pass 3 reads again without a cache");
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public void Pass_two_reads_only_when_a_key_has_low_bits(bool oneKeyWithLowBits, int passesOverEveryChunk)
    {
        // Bf16-like magnitudes have no low bits: each high bucket then holds one key, and pass 2 is skipped. Without a
        // key cache every pass reads; position 0 is the zero at index 0, which pass 3 finds in the first chunk it reads.
        var values = SparsifyFixture.Bf16Like(5_000, seed: 31, distinctExponents: 2);
        for (int i = 0; i < values.Length; i++) if (values[i] == 0) values[i] = 1f; // one zero only, at index 0
        values[0] = 0f;
        if (oneKeyWithLowBits) values[4_321] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(values[4_321]) | 0x1234u);
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var positions = new long[] { 0 };
        int reads = 0;
        var points = ExactSelection.Select(values.Length, positions, (s, destination) =>
        {
            reads++;
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 37, parallelism: 1, keyCache: null, CancellationToken.None);
        Assert.Equal(FullSortPoints(values, positions), points);
        int chunks = (5_000 + 36) / 37;
        Assert.Equal(passesOverEveryChunk * chunks + 1, reads);
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(2, 0)]
    public void A_tensor_with_its_keys_kept_is_sampled_first_and_finds_the_positions_a_full_sort_gives(int parallelism, int distinctExponents)
    {
        // Large enough for the sampled pass 1 (a band of buckets around the sample's estimate); exponents 0 means
        // values spread over thousands of buckets (bf16 rounding of uniform values), so the band spans several.
        var values = distinctExponents > 0 ? SparsifyFixture.Bf16Like(300_000, seed: 19, distinctExponents) : SpreadBf16(300_000, seed: 19);
        var positions = new long[] { 0, 1, 29_999, 210_000, 297_000, 299_999 };
        AssertFullSortPositions(values, positions, parallelism);
    }

    [Fact]
    public void A_sample_that_misleads_is_caught_and_every_key_counted()
    {
        // The sampled elements (every 17th of each chunk) are large and the rest small: the sample puts the median among
        // the large values, where the band then finds too many keys below it; a bias of real models' outlier columns.
        var values = SpreadBf16(200_000, seed: 23);
        for (int chunk = 0; chunk < values.Length; chunk += SelectionChunk)
            for (int i = chunk; i < Math.Min(chunk + SelectionChunk, values.Length); i += 17) values[i] = 100f + i % 1000;
        var positions = new long[] { 100_000, 150_000, 190_000, 199_999 };
        AssertFullSortPositions(values, positions, parallelism: 2);
    }

    [Theory]
    [InlineData(1, true, true)]
    [InlineData(2, true, true)]
    [InlineData(2, false, true)]
    [InlineData(1, true, false)]
    [InlineData(2, true, false)]
    [InlineData(2, false, false)]
    public void Massive_ties_beside_keys_of_the_same_bucket_with_low_bits_find_the_positions_a_full_sort_gives(int parallelism, bool cacheKeys, bool oneBucket)
    {
        // As a chat vector of a bf16 model: half the elements tie at one magnitude (its key's low 16 bits zero), counted
        // in registers; beside it keys of the same high bucket with low bits set, and of the buckets either side, which
        // the passes count one by one. Positions in the tie's bucket only (pass 2 for one bucket, a trim's case), or
        // also around it (the band spans several buckets, pass 2 several).
        var random = new Random(29);
        float tied = MathF.Pow(2, -13);
        uint tiedBits = BitConverter.SingleToUInt32Bits(tied);
        var values = new float[200_000];
        for (int i = 0; i < values.Length; i++)
        {
            int draw = random.Next(20);
            uint bits = draw switch
            {
                < 10 => tiedBits,
                < 12 => tiedBits | (uint)random.Next(1, 1 << 16),            // same bucket, low bits set
                < 14 => tiedBits + 0x1_0000u * (uint)random.Next(1, 3),     // the buckets above, round
                < 16 => (tiedBits - 0x1_0000u * (uint)random.Next(1, 3)) | (uint)random.Next(1 << 16), // the buckets below
                _ => BitConverter.SingleToUInt32Bits(random.NextSingle() * 0.01f),
            };
            values[i] = BitConverter.UInt32BitsToSingle(random.Next(2) == 0 ? bits : bits | 0x8000_0000u);
        }
        var order = SparsifyFixture.SortedOrder(values);
        var tiedKey = MagnitudeOrder.Key(tied);
        long first = Array.FindIndex(order, i => MagnitudeOrder.Key(values[i]) == tiedKey);
        long last = Array.FindLastIndex(order, i => MagnitudeOrder.Key(values[i]) == tiedKey);
        // After the tie come the keys of its bucket with low bits set (a tenth of the elements), before it those of the buckets below.
        var positions = oneBucket
            ? new[] { first, first + 1, (first + last) / 2, last - 1, last, last + 1, last + 500 }
            : new[] { 0, first - 1, first, (first + last) / 2, last, last + 1, last + 15_000, values.Length - 1L };
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var points = ExactSelection.Select(values.Length, positions, (s, destination) => keys.AsSpan((int)s, destination.Length).CopyTo(destination),
            SelectionChunk, parallelism, keyCache: cacheKeys ? new uint[values.Length] : null, CancellationToken.None);
        Assert.Equal(FullSortPoints(values, positions), points);
    }

    [Fact]
    public void A_selection_that_finds_the_key_memory_in_use_waits_for_it_instead_of_reading_in_every_pass()
    {
        var values = SpreadBf16(100_000, seed: 29);
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        long[] positions = [70_000];
        using var firstHasTheMemory = new ManualResetEventSlim();
        using var secondHasStarted = new ManualResetEventSlim();
        int secondReads = 0;
        var first = Task.Run(() => ExactSelection.Select(values.Length, positions, (s, destination) =>
        {
            if (!firstHasTheMemory.IsSet)
            {
                firstHasTheMemory.Set();
                secondHasStarted.Wait();
                Thread.Sleep(200); // the second asks for the memory while this one holds it
            }
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 10_000, parallelism: 1));
        firstHasTheMemory.Wait();
        var second = Task.Run(() =>
        {
            secondHasStarted.Set();
            return ExactSelection.Select(values.Length, positions, (s, destination) =>
            {
                Interlocked.Increment(ref secondReads);
                keys.AsSpan((int)s, destination.Length).CopyTo(destination);
            }, chunkElements: 10_000, parallelism: 2);
        });
        Assert.True(Task.WaitAll([first, second], TimeSpan.FromSeconds(60)), "the selections did not finish");
        var expected = FullSortPoints(values, positions);
        Assert.Equal(expected, first.Result);
        Assert.Equal(expected, second.Result);
        Assert.Equal(10, secondReads); // one read per chunk: its later passes scanned the kept keys
    }

    [Fact]
    public void A_selection_waiting_for_the_key_memory_goes_on_without_it_when_the_holder_waits_for_it()
    {
        // A trim of a trimmed vector: the outer selection holds the memory and its reads need the inner vector's lock,
        // which the inner selection, on another thread, holds while it asks for the memory. Neither may wait forever.
        var values = SpreadBf16(100_000, seed: 31);
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        long[] positions = [30_000];
        var innerLock = new object();
        using var innerLocked = new ManualResetEventSlim();
        using var outerHasTheMemory = new ManualResetEventSlim();
        OrderPoint[]? innerResult = null;
        var inner = new Thread(() =>
        {
            lock (innerLock)
            {
                innerLocked.Set();
                outerHasTheMemory.Wait();
                innerResult = ExactSelection.Select(values.Length, positions, (s, destination) => keys.AsSpan((int)s, destination.Length).CopyTo(destination),
                    chunkElements: 10_000, parallelism: 1);
            }
        }) { IsBackground = true }; // a hang fails the test below, and does not hold the test run
        inner.Start();
        innerLocked.Wait();
        var outer = Task.Run(() => ExactSelection.Select(values.Length, positions, (s, destination) =>
        {
            outerHasTheMemory.Set();
            lock (innerLock) keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 10_000, parallelism: 1));
        Assert.True(outer.Wait(TimeSpan.FromSeconds(60)), "the selections waited for each other");
        Assert.True(inner.Join(TimeSpan.FromSeconds(60)));
        var expected = FullSortPoints(values, positions);
        Assert.Equal(expected, outer.Result);
        Assert.Equal(expected, innerResult);
    }

    [Theory]
    [InlineData(1, 3, 0)]
    [InlineData(2, 3, 0)]
    [InlineData(2, 0, 150_000)]
    [InlineData(1, 3, 200_000)]
    [InlineData(2, 3, 299_999)]
    public void A_tensor_too_large_to_keep_its_keys_samples_every_sixteenth_chunk_and_reads_one_chunk_in_pass_three(int parallelism, int distinctExponents, long position)
    {
        // One position (a trim's threshold) of bf16-like keys without a key cache: a sixteenth of the chunks sampled,
        // one band pass counting the bucket per chunk, then only the chunk holding the element; the full histogram
        // pass and pass 3's scan of the chunks are not needed. (Spread values: a position inside the range, where the band
        // spans a few dozen buckets; at the far low end it spans the exponents, too wide to count per chunk.)
        var values = distinctExponents > 0 ? SparsifyFixture.Bf16Like(300_000, seed: 37, distinctExponents) : SpreadBf16(300_000, seed: 37);
        const int chunkElements = 1_000; // 300 chunks, 18 sampled
        var (points, reads) = SelectWithoutCache(values, [position], chunkElements, parallelism);
        Assert.Equal(FullSortPoints(values, [position]), points);
        Assert.Equal(300 / 16 + 300 + 1, reads);
    }

    [Fact]
    public void A_tensor_too_large_to_keep_its_keys_whose_chunk_sample_misleads_still_finds_the_position()
    {
        // The sampled chunks (every 16th, from the 9th) hold the large values: the band around the sample's estimate
        // misses, and the full histogram pass answers.
        var values = SpreadBf16(200_000, seed: 41);
        const int chunkElements = 1_000;
        for (int chunk = 8; chunk < 200; chunk += 16)
            for (int i = chunk * chunkElements; i < (chunk + 1) * chunkElements; i++) values[i] = 100f + i % 1000;
        long[] positions = [60_000];
        var (points, reads) = SelectWithoutCache(values, positions, chunkElements, parallelism: 2);
        Assert.Equal(FullSortPoints(values, positions), points);
        Assert.True(reads > 200 / 16 + 2 * 200, $"{reads} reads: the band missed, so a full pass should have followed");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_tensor_too_large_to_keep_its_keys_with_low_bits_in_its_keys_falls_back_to_counting_the_key(int parallelism)
    {
        // Keys with low bits: a bucket holds several keys, so the band's per-chunk counts of the bucket cannot place the
        // element; passes 2 and 3 read as before.
        var values = SparsifyFixture.Bf16Like(300_000, seed: 43, distinctExponents: 2);
        var random = new Random(43);
        for (int i = 0; i < values.Length; i += 3)
            values[i] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(values[i]) | (uint)random.Next(1, 1 << 16));
        long[] positions = [210_000];
        var (points, _) = SelectWithoutCache(values, positions, chunkElements: 1_000, parallelism);
        Assert.Equal(FullSortPoints(values, positions), points);
    }

    [Theory]
    [InlineData(0.3, false, 1)]
    [InlineData(0.3, false, 2)]
    [InlineData(0.3, true, 2)]
    [InlineData(0.0000001, false, 1)]
    [InlineData(0.0, true, 1)]
    [InlineData(1.0, false, 2)]
    public void The_top_share_of_the_nonzero_keys_is_where_a_full_sort_puts_it_with_the_zeros_counted_by_pass_one(double share, bool cacheKeys, int parallelism)
    {
        // A chat vector's keys: a quarter unchanged (zero), the rest a few bf16 steps, tied in large numbers.
        var values = SparsifyFixture.Bf16Like(300_000, seed: 47, distinctExponents: 3);
        var random = new Random(47);
        for (int i = 0; i < values.Length; i++) if (random.Next(4) == 0) values[i] = random.Next(2) == 0 ? 0f : -0f;
        long nonzero = values.LongCount(v => v != 0);
        long k = (long)(share * nonzero);
        var expected = k == 0 ? OrderPoint.End : FullSortPoints(values, [values.Length - k])[0];

        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        int reads = 0;
        var point = ExactSelection.SelectTopShareOfNonzero(values.Length, share, (s, destination) =>
        {
            Interlocked.Increment(ref reads);
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 1_000, parallelism, cacheKeys ? new uint[values.Length] : null, CancellationToken.None);
        Assert.Equal(expected, point);
        // Without kept keys, inside the range: the sample, one band pass that also counts the zeros (no pass of its own
        // before), and the one chunk holding the element. (At the low end, share 1, the band is too wide to count per chunk.)
        if (!cacheKeys && share == 0.3) Assert.Equal(300 / 16 + 300 + 1, reads);
    }

    [Fact]
    public void A_top_share_whose_sample_misjudges_the_zeros_still_finds_the_point()
    {
        // Every sampled chunk (every 16th, from the 9th) is all zeros: the sample takes 100% of the keys for zeros, the
        // band misses, and the full histogram, which counts the zeros too, answers.
        var values = SpreadBf16(200_000, seed: 53);
        const int chunkElements = 1_000;
        for (int chunk = 8; chunk < 200; chunk += 16)
            Array.Clear(values, chunk * chunkElements, chunkElements);
        long k = (long)(0.4 * values.LongCount(v => v != 0));
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var point = ExactSelection.SelectTopShareOfNonzero(values.Length, 0.4, (s, destination) => keys.AsSpan((int)s, destination.Length).CopyTo(destination),
            chunkElements, parallelism: 2, keyCache: null, CancellationToken.None);
        Assert.Equal(FullSortPoints(values, [values.Length - k])[0], point);
    }

    [Theory]
    [InlineData(false, 5)]
    [InlineData(true, 5)]
    [InlineData(true, 3)] // arcee_fusion's quantiles: up to four buckets are compared a SIMD vector at a time
    [InlineData(true, 2)]
    public void A_first_histogram_counted_by_the_caller_in_any_order_finds_the_keys_a_full_sort_gives(bool lowBits, int positionCount)
    {
        var values = SparsifyFixture.Bf16Like(100_000, seed: 59, distinctExponents: 3);
        var random = new Random(59);
        if (lowBits)
            for (int i = 0; i < values.Length; i += 5)
                values[i] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(values[i]) | (uint)random.Next(1, 1 << 16));
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        // Counted in blocks of another size than the selection's chunks, the blocks in reverse order.
        var counted = new ExactSelection.KeyHistogram();
        for (int start = (keys.Length - 1) / 7_000 * 7_000; start >= 0; start -= 7_000)
            counted.Add(keys.AsSpan(start, Math.Min(7_000, keys.Length - start)));
        long[] positions = positionCount == 5 ? [0, 24_999, 50_000, 74_999, 99_999] : positionCount == 3 ? [24_999, 49_999, 74_999] : [33_333, 99_998];
        int reads = 0;
        var selected = ExactSelection.SelectKeys(values.Length, positions, counted, (s, destination) =>
        {
            Interlocked.Increment(ref reads);
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements: 1_000, parallelism: 2);
        Assert.Equal(FullSortPoints(values, positions).Select(p => p.Key), selected);
        // No pass 1 (counted), no pass 3 (the element among equal keys is not wanted); pass 2 only where keys have low bits.
        Assert.Equal(lowBits ? 100 : 0, reads);

        var partial = new ExactSelection.KeyHistogram();
        partial.Add(keys.AsSpan(0, 10));
        Assert.Throws<ArgumentException>(() => ExactSelection.SelectKeys(values.Length, positions, partial, (s, d) => { }, 1_000, 1));
    }

    private static (OrderPoint[] Points, int Reads) SelectWithoutCache(float[] values, long[] positions, int chunkElements, int parallelism)
    {
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        int reads = 0;
        var points = ExactSelection.Select(values.Length, positions, (s, destination) =>
        {
            Interlocked.Increment(ref reads);
            keys.AsSpan((int)s, destination.Length).CopyTo(destination);
        }, chunkElements, parallelism, keyCache: null, CancellationToken.None);
        return (points, reads);
    }

    /// <summary>The order points at <paramref name="positions"/>, from a full sort (the independent expectation).</summary>
    private static OrderPoint[] FullSortPoints(float[] values, long[] positions)
    {
        var order = SparsifyFixture.SortedOrder(values);
        return positions.Select(p => new OrderPoint(MagnitudeOrder.Key(values[order[p]]), order[p])).ToArray();
    }

    private const int SelectionChunk = 4_099;

    /// <summary>Selects with the keys kept in memory between passes (the sampled pass 1 needs them).</summary>
    private static void AssertFullSortPositions(float[] values, long[] positions, int parallelism)
    {
        var keys = values.Select(MagnitudeOrder.Key).ToArray();
        var points = ExactSelection.Select(values.Length, positions, (s, destination) => keys.AsSpan((int)s, destination.Length).CopyTo(destination),
            SelectionChunk, parallelism, keyCache: new uint[values.Length], CancellationToken.None);
        Assert.Equal(FullSortPoints(values, positions), points);
    }

    /// <summary>Uniform values in (−0.06, 0.06) rounded to bf16 (cut to their top 16 bits), as the benchmark's models hold.</summary>
    private static float[] SpreadBf16(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n)
            .Select(_ => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits((random.NextSingle() - 0.5f) * 0.12f) & 0xFFFF_0000u))
            .ToArray();
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
