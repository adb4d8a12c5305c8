using ChatVector.Core.Format;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;
using Xunit;
using static ChatVector.Core.Tests.Sparsify.SparsifyFixture;

namespace ChatVector.Core.Tests.Sparsify;

/// <summary>Magnitude (TIES trim) and Breadcrumbs against a full sort by the stated total order.</summary>
public class MagnitudeTrimTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.77)]
    [InlineData(1.0)]
    public void Magnitude_keeps_the_last_floor_density_n_of_the_order(double density)
    {
        var values = Bf16Like(10_001, seed: 1);
        long k = (long)Math.Floor(density * values.Length);
        var actual = ReadAll(Limit(values, Options(SparsifyMethod.Magnitude, density)));
        AssertSameBits(KeepPositions(values, values.Length - k, values.Length), actual);
        Assert.Equal(k, actual.Count(v => v != 0) + KeptZeros(values, values.Length - k));
    }

    [Fact]
    public void A_tie_at_the_threshold_keeps_the_highest_flat_indices()
    {
        // Every magnitude equal: the order is the flat index order, so keeping the last k keeps indices n-k..n-1.
        var values = Enumerable.Range(0, 100).Select(i => i % 2 == 0 ? 0.25f : -0.25f).ToArray();
        var actual = ReadAll(Limit(values, Options(SparsifyMethod.Magnitude, 0.37)), chunk: 9);
        for (int i = 0; i < 100; i++) Assert.Equal(i >= 63 ? values[i] : 0f, actual[i]);
    }

    [Fact]
    public void Threshold_inside_a_run_of_equal_magnitudes_splits_it_by_index()
    {
        // 4 large, 6 of magnitude 0.1 (both signs, spread out), 2 small; k = 6 cuts the 0.1 run: its 2 highest indices stay.
        float[] values = [0.5f, 0.1f, -0.5f, 0.01f, 0.1f, 0.9f, -0.1f, 0.01f, 0.1f, -0.1f, 0.7f, 0.1f];
        var actual = ReadAll(Limit(values, Options(SparsifyMethod.Magnitude, 0.5)), chunk: 5);
        Assert.Equal([0.5f, 0f, -0.5f, 0f, 0f, 0.9f, 0f, 0f, 0f, -0.1f, 0.7f, 0.1f], actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 18)]
    public void Selection_chunk_size_does_not_change_the_result(int selectionChunk)
    {
        var values = Bf16Like(20_000, seed: 2);
        var expected = KeepPositions(values, 20_000 - 6_000, 20_000);
        AssertSameBits(expected, ReadAll(Limit(values, Options(SparsifyMethod.Magnitude, 0.3), selectionChunk: selectionChunk), chunk: 333));
    }

    [Theory]
    [InlineData(0.3, 0.01)]
    [InlineData(0.3, 0.2)]
    [InlineData(0.0, 0.05)]
    [InlineData(1.0, 0.0)]
    public void Breadcrumbs_keeps_positions_n_bot_to_n_minus_n_top(double density, double gamma)
    {
        var values = Bf16Like(5_003, seed: 3);
        long n = values.Length, k = (long)Math.Floor(density * n), top = (long)Math.Floor(gamma * n), bottom = n - k - top;
        Assert.True(bottom >= 0);
        AssertSameBits(KeepPositions(values, bottom, n - top), ReadAll(Limit(values, Options(SparsifyMethod.Breadcrumbs, density, gamma)), chunk: 1000));
    }

    [Fact]
    public void Breadcrumbs_with_n_bot_below_zero_keeps_the_smallest_k()
    {
        // n = 1000, density 0.5, gamma 0.8: n_top 800, n_bot -300 => n_bot 0, n_top 500: positions [0, 500).
        var values = Bf16Like(1_000, seed: 4);
        AssertSameBits(KeepPositions(values, 0, 500), ReadAll(Limit(values, Options(SparsifyMethod.Breadcrumbs, 0.5, gamma: 0.8))));
    }

    [Fact]
    public void A_window_from_the_first_position_keeps_negative_zeros_in_every_chunk()
    {
        // The lower bound is the order's start, so every key-0 element is kept as it is, -0 included, in chunks past the first.
        var values = Bf16Like(1_000, seed: 8);
        for (int i = 3; i < values.Length; i += 7) values[i] = -0f;
        AssertSameBits(KeepPositions(values, 0, 500), ReadAll(Limit(values, Options(SparsifyMethod.Breadcrumbs, 0.5, gamma: 0.8)), chunk: 96));
    }

    [Fact]
    public void Rescale_divides_kept_elements_by_density_in_double_rounded_once()
    {
        var values = Bf16Like(3_000, seed: 5);
        AssertSameBits(KeepPositions(values, 3_000 - 900, 3_000, divideBy: 0.3),
            ReadAll(Limit(values, Options(SparsifyMethod.Magnitude, 0.3, rescale: true))));
    }

    [Theory]
    [InlineData(SparsifyMethod.Magnitude)]
    [InlineData(SparsifyMethod.Breadcrumbs)]
    public void All_zero_vector_stays_zero(SparsifyMethod method)
    {
        var actual = ReadAll(Limit(new float[4096], Options(method, 0.5, rescale: true)), chunk: 1000);
        Assert.All(actual, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
    }

    [Theory]
    [InlineData(0.0, 0f)]
    [InlineData(0.99, 0f)]
    [InlineData(1.0, -0.75f)]
    public void A_rank_0_tensor_is_one_element(double density, float expected)
    {
        var limited = Limit([-0.75f], Options(SparsifyMethod.Magnitude, density), shape: []);
        Assert.Empty(limited.Shape);
        Assert.Equal([expected], ReadAll(limited));
    }

    [Fact]
    public void Density_one_and_zero_need_no_selection_pass()
    {
        var source = new ArraySource("t", Bf16Like(100, seed: 6), [100]);
        var all = new SparsifiedTensor(source, Options(SparsifyMethod.Magnitude, 1.0));
        Assert.Equal(ReadAll(source), ReadAll(all));
        Assert.Equal(2, source.Reads); // one read each, no pass
    }

    [Fact]
    public void Selection_runs_once_per_tensor_whatever_the_number_of_chunks()
    {
        var source = new ArraySource("t", Bf16Like(10_000, seed: 7), [100, 100]);
        var limited = new SparsifiedTensor(source, Options(SparsifyMethod.Magnitude, 0.5), selectionChunkElements: 10_000);
        ReadAll(limited, chunk: 100);
        // One selection of at most three passes of one read (one when the process's key cache is free: the later passes
        // then scan the kept keys; other tests' selections may hold it), then one read per chunk: never a selection per chunk.
        Assert.InRange(source.Reads, 1 + 100, 3 + 100);
    }

    [Theory]
    [InlineData(DType.BF16, DType.F32)]
    [InlineData(DType.F64, DType.F64)]
    public void A_vector_is_trimmed_in_its_accumulator_type(DType input, DType output)
    {
        var values = Bf16Like(1000, seed: 12); // exact in bf16, so every input type holds the same numbers
        var limited = new SparsifiedTensor(new ArraySource("t", values, [10, 100], input), Options(SparsifyMethod.Magnitude, 0.25));
        Assert.Equal(output, limited.DType);
        using var all = limited.ReadChunk(0, 1000, ComputeContext.Cpu());
        using var asFloat = all.to(TorchSharp.torch.ScalarType.Float32);
        AssertSameBits(KeepPositions(values, 750, 1000), asFloat.data<float>().ToArray());
    }

    [Fact]
    public void An_integer_tensor_cannot_be_sparsified() =>
        Assert.Throws<NotSupportedException>(() => new SparsifiedTensor(new ArraySource("ids", [1f], [1], DType.I64), Options(SparsifyMethod.Magnitude, 0.5)));

    // Zeros among the kept positions count toward k but are indistinguishable from dropped elements.
    private static int KeptZeros(float[] values, long start) =>
        SortedOrder(values).Skip((int)start).Count(i => values[i] == 0);
}
