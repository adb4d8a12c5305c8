using ChatVector.Core.Runtime;
using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Merge;

/// <summary>
/// -Consensus and -Normalize through <see cref="MergedTensor"/> (F32 in and out, so the only rounding is
/// float32's), against the rules computed here with plain loops.
/// </summary>
public class ConsensusTests
{
    /// <summary>Float32 values held in memory; chunks are slices of the array.</summary>
    private sealed class ArraySource(string name, float[] values, long[] shape) : ComputedTensorSource(name, DType.F32, shape)
    {
        protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context) =>
            torch.tensor(values.AsSpan((int)firstElement, (int)count).ToArray());
    }

    public ConsensusTests()
    {
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
    }

    private static float[] Merge(float[] model, long[] shape, (float[] Values, double Ratio)[] vectors, MixOptions mixing, int chunk = 0)
    {
        var terms = vectors.Select((v, i) => new VectorTerm(new ArraySource($"v{i}", v.Values, [v.Values.Length]), v.Ratio)).ToList();
        var merged = new MergedTensor(new ArraySource("w", model, shape), terms, [], DType.F32, mixing);
        int n = model.Length, step = chunk == 0 ? Math.Max(n, 1) : chunk;
        var result = new float[n];
        for (int first = 0; first < n; first += step)
        {
            int count = Math.Min(step, n - first);
            var bytes = new byte[count * 4];
            merged.CopyBytes(first * 4L, bytes, ComputeContext.Cpu());
            Buffer.BlockCopy(bytes, 0, result, first * 4, bytes.Length);
        }
        return result;
    }

    /// <summary>Float64 values held in memory (an F64 model or vector: the merge computes in float64).</summary>
    private sealed class DoubleSource(string name, double[] values) : ComputedTensorSource(name, DType.F64, [values.Length])
    {
        protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context) =>
            torch.tensor(values.AsSpan((int)firstElement, (int)count).ToArray());
    }

    [Theory]
    [InlineData(ConsensusMethod.Sum, true)]
    [InlineData(ConsensusMethod.Sum, false)]
    [InlineData(ConsensusMethod.Count, true)]
    [InlineData(ConsensusMethod.None, true)]
    public void A_float64_merge_mixes_by_the_same_rules_in_float64(ConsensusMethod consensus, bool normalize)
    {
        // Three vectors, the last covering the first half only (an extended vocabulary), with negative ratios and zeros.
        var random = new Random(17);
        int n = 3001;
        double[] Values(int length) => Enumerable.Range(0, length).Select(i => i % 11 == 0 ? 0.0 : random.NextDouble() - 0.5).ToArray();
        var model = Values(n);
        (double[] Values, double Ratio)[] vectors = [(Values(n), 0.7), (Values(n), -0.4), (Values(n / 2), 1.3)];
        var merged = new MergedTensor(new DoubleSource("w", model),
            vectors.Select((v, i) => new VectorTerm(new DoubleSource($"v{i}", v.Values), v.Ratio)).ToList(), [], DType.F64, new MixOptions(consensus, normalize));
        var bytes = new byte[n * 8];
        foreach (int chunk in new[] { n, 256 })
            for (int first = 0; first < n; first += chunk)
            {
                int count = Math.Min(chunk, n - first);
                merged.CopyBytes(first * 8L, bytes.AsSpan(first * 8, count * 8), ComputeContext.Cpu());
            }
        var actual = new double[n];
        Buffer.BlockCopy(bytes, 0, actual, 0, bytes.Length);

        // The specification element by element in float64, written here.
        var expected = new double[n];
        for (int j = 0; j < n; j++)
        {
            var covering = vectors.Where(v => j < v.Values.Length).ToArray();
            var w = covering.Select(v => v.Values[j] * v.Ratio).ToArray();
            var kept = w.Select(_ => true).ToArray();
            if (consensus != ConsensusMethod.None)
            {
                double total = 0;
                foreach (var x in w) total += consensus == ConsensusMethod.Sum ? x : Math.Sign(x);
                int elected = total >= 0 ? 1 : -1;
                kept = w.Select(x => Math.Sign(x) == elected).ToArray();
            }
            double mixed = 0, divisor = 0;
            for (int i = 0; i < w.Length; i++)
            {
                if (kept[i]) mixed += w[i];
                if (kept[i]) divisor += covering[i].Ratio;
            }
            if (normalize)
            {
                bool unusable = consensus == ConsensusMethod.None ? Math.Abs(divisor) < 1e-8 : divisor == 0;
                mixed /= unusable ? 1 : divisor;
            }
            expected[j] = model[j] + mixed;
        }
        Assert.Equal(expected, actual);
    }

    /// <summary>The specification, element by element, in float32 (ratio sums in double, rounded once).</summary>
    private static float[] Expected(float[] model, (float[] Values, double Ratio)[] vectors, MixOptions mixing)
    {
        var result = new float[model.Length];
        for (int j = 0; j < model.Length; j++)
        {
            var w = vectors.Select(v => j < v.Values.Length ? v.Values[j] * (float)v.Ratio : 0f).ToArray();
            var covers = vectors.Select(v => j < v.Values.Length).ToArray();
            bool[] kept;
            if (mixing.Consensus == ConsensusMethod.None) kept = w.Select(_ => true).ToArray();
            else
            {
                float total = 0;
                foreach (var x in w) total += mixing.Consensus == ConsensusMethod.Sum ? x : MathF.Sign(x);
                int elected = total >= 0 ? 1 : -1;
                kept = w.Select(x => MathF.Sign(x) == elected).ToArray();
            }
            float mixed = 0;
            for (int i = 0; i < w.Length; i++) if (kept[i]) mixed += w[i];
            if (mixing.Normalize)
            {
                double divisor = 0;
                for (int i = 0; i < w.Length; i++)
                    if (mixing.Consensus == ConsensusMethod.None ? covers[i] : kept[i]) divisor += vectors[i].Ratio;
                bool negligible = mixing.Consensus == ConsensusMethod.None ? Math.Abs(divisor) < 1e-8 : divisor == 0;
                mixed /= (float)(negligible ? 1 : divisor);
            }
            result[j] = model[j] + mixed;
        }
        return result;
    }

    /// <summary>Few distinct magnitudes, so equal |v| and exact zeros are common (as in bf16 data).</summary>
    private static float[] Coarse(Random random, int n) =>
        Enumerable.Range(0, n).Select(_ => (float)(random.Next(-4, 5) * 0.25)).ToArray();

    public static TheoryData<ConsensusMethod, bool> Modes() => new()
    {
        { ConsensusMethod.Sum, false }, { ConsensusMethod.Sum, true },
        { ConsensusMethod.Count, false }, { ConsensusMethod.Count, true },
        { ConsensusMethod.None, true },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Three_vectors_with_mixed_sign_ratios_match_the_loops_in_any_chunking(ConsensusMethod consensus, bool normalize)
    {
        var random = new Random(7);
        var model = Enumerable.Range(0, 600).Select(_ => random.NextSingle() - 0.5f).ToArray();
        (float[], double)[] vectors = [(Coarse(random, 600), 1.0), (Coarse(random, 600), 0.7), (Coarse(random, 600), -0.3)];
        var mixing = new MixOptions(consensus, normalize);
        var expected = Expected(model, vectors, mixing);
        Assert.Equal(expected, Merge(model, [20, 30], vectors, mixing));
        Assert.Equal(expected, Merge(model, [20, 30], vectors, mixing, chunk: 7));
    }

    [Theory]
    [InlineData(ConsensusMethod.Sum)]
    [InlineData(ConsensusMethod.Count)]
    public void A_sign_tie_elects_plus(ConsensusMethod consensus)
    {
        // Σ w = 0 and Σ sign(w) = 0: + is elected, so only the positive contribution is kept.
        (float[], double)[] vectors = [([0.5f], 1.0), ([-0.5f], 1.0)];
        Assert.Equal([10.5f], Merge([10f], [1], vectors, new MixOptions(consensus)));
        Assert.Equal([10.5f], Merge([10f], [1], vectors, new MixOptions(consensus, Normalize: true)));
    }

    [Fact]
    public void Count_and_sum_elect_differently_when_mass_and_votes_disagree()
    {
        // Two small negatives outvote one large positive; the positive outweighs them.
        (float[], double)[] vectors = [([4f], 1.0), ([-1f], 1.0), ([-1f], 1.0)];
        Assert.Equal([4f], Merge([0f], [1], vectors, new MixOptions(ConsensusMethod.Sum)));
        Assert.Equal([-2f], Merge([0f], [1], vectors, new MixOptions(ConsensusMethod.Count)));
        Assert.Equal([-1f], Merge([0f], [1], vectors, new MixOptions(ConsensusMethod.Count, Normalize: true)));
    }

    [Fact]
    public void A_kept_ratio_sum_of_zero_divides_by_one()
    {
        // w = 1·1 and (−1)·(−1): both +1, both kept, and their ratios sum to 0.
        (float[], double)[] vectors = [([1f], 1.0), ([-1f], -1.0)];
        Assert.Equal([2f], Merge([0f], [1], vectors, new MixOptions(ConsensusMethod.Sum, Normalize: true)));
        Assert.Equal([2f], Merge([0f], [1], vectors, new MixOptions(ConsensusMethod.None, Normalize: true)));
    }

    [Fact]
    public void A_negligible_ratio_sum_without_consensus_divides_by_one_and_a_small_one_divides()
    {
        (float[], double)[] negligible = [([1f], 1.0), ([1f], -1.0 + 1e-9)];
        Assert.Equal(Expected([0f], negligible, new MixOptions(ConsensusMethod.None, true)), Merge([0f], [1], negligible, new MixOptions(ConsensusMethod.None, true)));
        Assert.True(Math.Abs(Merge([0f], [1], negligible, new MixOptions(ConsensusMethod.None, true))[0]) < 1e-6);
        (float[], double)[] small = [([1f], 0.25), ([1f], 0.25)];
        Assert.Equal([1f], Merge([0f], [1], small, new MixOptions(ConsensusMethod.None, true)));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void All_zero_vectors_leave_the_model_as_it_is(ConsensusMethod consensus, bool normalize)
    {
        var model = new[] { 1.5f, -2f, 0f, 3.25f };
        (float[], double)[] vectors = [(new float[4], 1.0), (new float[4], 0.5)];
        Assert.Equal(model, Merge(model, [2, 2], vectors, new MixOptions(consensus, normalize)));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Rank_0_and_1_d_tensors_follow_the_same_rules(ConsensusMethod consensus, bool normalize)
    {
        var mixing = new MixOptions(consensus, normalize);
        (float[], double)[] scalar = [([0.75f], 0.5), ([-0.25f], 2.0)];
        Assert.Equal(Expected([1f], scalar, mixing), Merge([1f], [], scalar, mixing));
        var random = new Random(3);
        var model = Enumerable.Range(0, 33).Select(_ => random.NextSingle()).ToArray();
        (float[], double)[] vectors = [(Coarse(random, 33), 0.6), (Coarse(random, 33), 0.9)];
        Assert.Equal(Expected(model, vectors, mixing), Merge(model, [33], vectors, mixing, chunk: 5));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_vector_over_the_leading_rows_counts_only_there(ConsensusMethod consensus, bool normalize)
    {
        // An extended vocabulary: the second vector covers the first 12 of 20 elements.
        var random = new Random(5);
        var model = Enumerable.Range(0, 20).Select(_ => random.NextSingle()).ToArray();
        (float[], double)[] vectors = [(Coarse(random, 20), 0.8), (Coarse(random, 12), 0.4)];
        var mixing = new MixOptions(consensus, normalize);
        Assert.Equal(Expected(model, vectors, mixing), Merge(model, [5, 4], vectors, mixing, chunk: 8));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Chunks_longer_than_a_mixing_block_match_the_loops(ConsensusMethod consensus, bool normalize)
    {
        // 10,000 elements mix in blocks of 4,096; the second vector ends inside the second block, the chunks cut across blocks.
        var random = new Random(9);
        var model = Enumerable.Range(0, 10_000).Select(_ => random.NextSingle() - 0.5f).ToArray();
        (float[], double)[] vectors = [(Coarse(random, 10_000), 0.9), (Coarse(random, 5_000), 0.6), (Coarse(random, 10_000), -0.2)];
        var mixing = new MixOptions(consensus, normalize);
        var expected = Expected(model, vectors, mixing);
        Assert.Equal(expected, Merge(model, [100, 100], vectors, mixing));
        Assert.Equal(expected, Merge(model, [100, 100], vectors, mixing, chunk: 4_500));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Two_vectors_covering_the_chunk_match_the_loops(ConsensusMethod consensus, bool normalize)
    {
        // Two vectors over every element mix in one pass per block (the chunks of 4,099 end inside a SIMD vector).
        var random = new Random(10);
        var model = Enumerable.Range(0, 9_000).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var first = Coarse(random, 9_000);
        var second = Coarse(random, 9_000);
        first[7] = -0f;
        model[8] = -0f;
        (float[], double)[] vectors = [(first, 0.75), (second, -0.5)];
        var mixing = new MixOptions(consensus, normalize);
        var expected = Expected(model, vectors, mixing);
        Sparsify.SparsifyFixture.AssertSameBits(expected, Merge(model, [90, 100], vectors, mixing));
        Sparsify.SparsifyFixture.AssertSameBits(expected, Merge(model, [90, 100], vectors, mixing, chunk: 4_099));
    }
}
