using ChatVector.Core.Kernels;
using ChatVector.Core.Export;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Streaming;
using ChatVector.Core.Tensors;
using Xunit;
using static ChatVector.Core.Tests.Sparsify.SparsifyFixture;

namespace ChatVector.Core.Tests.Sparsify;

/// <summary>DARE (Random) and DELLA: draws per (seed, name, index), keep probabilities, rescaling, reproducibility.</summary>
public class RandomRulesTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Random_keeps_a_fraction_within_five_sigma_of_density(double density)
    {
        const int n = 200_000;
        var values = Enumerable.Repeat(1f, n).ToArray();
        int kept = ReadAll(Limit(values, Options(SparsifyMethod.Random, density))).Count(v => v != 0);
        double sigma = Math.Sqrt(n * density * (1 - density));
        Assert.InRange(kept, n * density - 5 * sigma, n * density + 5 * sigma);
    }

    [Fact]
    public void Random_rescales_kept_elements_by_one_over_density_unless_told_not_to()
    {
        var values = Bf16Like(10_000, seed: 8);
        var scaled = ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.3)));
        var plain = ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.3, rescale: false)));
        for (int i = 0; i < values.Length; i++)
        {
            Assert.True(plain[i] == 0 || plain[i] == values[i]);
            Assert.Equal(plain[i] == 0 ? 0f : (float)(values[i] / 0.3), scaled[i]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Random_keeps_exactly_the_elements_whose_draw_is_below_density(bool rescale)
    {
        // Odd chunk sizes put every element at every place of a SIMD vector and of a scalar tail.
        var values = Bf16Like(10_007, seed: 14);
        const string name = "model.layers.3.self_attn.q_proj.weight";
        var random = new CounterRandom(42, name);
        var expected = values.Select((v, i) => random.Uniform(i) < 0.3 ? (rescale ? (float)(v / 0.3) : v) : 0f).ToArray();
        foreach (var chunk in new[] { 1 << 20, 997, 13 })
            Assert.Equal(expected, ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.3, rescale: rescale), name: name), chunk));
    }

    [Theory]
    [InlineData(SparsifyMethod.Random, 0.0, 0)]
    [InlineData(SparsifyMethod.Random, 1.0, 1)]
    public void Random_density_zero_drops_all_and_one_keeps_all(SparsifyMethod method, double density, int keptFraction)
    {
        var values = Enumerable.Range(1, 5000).Select(i => (float)i).ToArray();
        var actual = ReadAll(Limit(values, Options(method, density)));
        Assert.Equal(keptFraction == 1 ? values : new float[values.Length], actual);
    }

    [Fact]
    public void Draws_depend_on_seed_and_tensor_name_only()
    {
        var values = Enumerable.Repeat(1f, 4096).ToArray();
        var a = ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.5, seed: 1), name: "a"));
        Assert.Equal(a, ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.5, seed: 1), name: "a"), chunk: 77));
        Assert.NotEqual(a, ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.5, seed: 2), name: "a")));
        Assert.NotEqual(a, ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.5, seed: 1), name: "b")));
    }

    [Fact]
    public void Counter_draws_are_fixed_numbers_so_runs_and_machines_agree()
    {
        // Pinned once: a change to the generator would silently change every saved DARE/DELLA result.
        var random = new CounterRandom(42, "w");
        var first = Enumerable.Range(0, 3).Select(i => random.Uniform(i)).ToArray();
        Assert.Equal(first, Enumerable.Range(0, 3).Select(i => new CounterRandom(42, "w").Uniform(i)).ToArray());
        Assert.All(first, u => Assert.InRange(u, 0.0, 1.0 - double.Epsilon));
        Assert.Equal(PinnedFirstDraw, first[0].ToString("R", System.Globalization.CultureInfo.InvariantCulture));
    }

    private const string PinnedFirstDraw = "0.7864314648642069";

    [Fact]
    public void Export_bytes_are_identical_across_chunk_sizes_and_parallelism()
    {
        var root = Directory.CreateTempSubdirectory("chatvector-limit-").FullName;
        try
        {
            var values = Bf16Like(300_000, seed: 9);
            var hashes = new HashSet<string>();
            foreach (var (chunkBytes, parallelism) in new[] { (4096, 1), (1 << 20, 4), (12_288, 3) })
            {
                var target = Path.Combine(root, $"{chunkBytes}-{parallelism}.safetensors");
                ITensorSource[] tensors =
                [
                    Limit(values, Options(SparsifyMethod.Random, 0.4), shape: [600, 500], name: "dare"),
                    Limit(values, Options(SparsifyMethod.Della, 0.4), shape: [600, 500], name: "della"),
                    Limit(values, Options(SparsifyMethod.Magnitude, 0.4), shape: [600, 500], name: "ties", selectionChunk: chunkBytes / 4),
                    Limit(values, Options(SparsifyMethod.Random, 0.4) with { Norm = RescaleNorm.L1 }, shape: [600, 500], name: "dare-l1"),
                    Limit(values, Options(SparsifyMethod.Della, 0.4) with { Norm = RescaleNorm.L1 }, shape: [600, 500], name: "della-l1"),
                ];
                ModelExporter.Export(new ExportRequest(target, tensors, Streaming: new StreamingOptions(chunkBytes, parallelism)), ComputeContext.Cpu());
                hashes.Add(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(target))));
            }
            Assert.Single(hashes);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Theory]
    [InlineData(40, 50, "bf16")]
    [InlineData(6, 3_000, "bf16")]
    [InlineData(5, 2_500, "exponents")]
    [InlineData(5, 2_500, "float32")]
    public void Della_keeps_by_rank_probability_within_each_row_divided_by_p(int rows, int m, string kind)
    {
        // bf16-like and "exponents" (few significant bits over many exponents) have keys without low bits, ranked by
        // counting; float32 values have them, ranked by the radix sort over every digit.
        var random32 = new Random(12);
        var values = kind switch
        {
            "exponents" => Enumerable.Range(0, rows * m).Select(i => (float)((i * 7919 % 1000 - 500) * Math.Pow(2, i % 37 - 20))).ToArray(),
            "float32" => Enumerable.Range(0, rows * m).Select(i => (random32.NextSingle() - 0.5f) * MathF.Pow(2, i % 29 - 14)).ToArray(),
            _ => Bf16Like(rows * m, seed: 10),
        };
        const double density = 0.4, epsilon = 0.15;
        var random = new CounterRandom(42, "model.layers.0.mlp.up_proj.weight");
        var expected = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            // Ranks 1..m by a plain sort of the row with the stated order.
            var order = Enumerable.Range(0, m).OrderBy(j => MathF.Abs(values[r * m + j])).ThenBy(j => j).ToArray();
            for (int rank = 1; rank <= m; rank++)
            {
                int i = r * m + order[rank - 1];
                double p = (density - epsilon) + 2 * epsilon * (rank - 1) / (m - 1);
                expected[i] = random.Uniform(i) < p ? (float)(values[i] / p) : 0f;
            }
        }
        AssertSameBits(expected, ReadAll(Limit(values, Options(SparsifyMethod.Della, density, epsilon: epsilon), shape: [rows, m]), chunk: 37));
    }

    [Fact]
    public void Della_rescaled_to_the_L1_norm_keeps_by_rank_and_scales_every_kept_value_by_one_factor_on_every_read()
    {
        // Rows of 3000 elements: reads of 1000 cut rows, so the whole-row reads and the kept bits' count of served
        // elements both matter. The first read masks from the bits the norms' pass recorded, the second (bits let go
        // once every element was served) runs the rule again: both must be the rule's output.
        const int rows = 7, m = 3_000;
        const double density = 0.4, epsilon = 0.15;
        var values = Bf16Like(rows * m, seed: 21);
        var random = new CounterRandom(42, "model.layers.0.mlp.up_proj.weight");
        var kept = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            var order = Enumerable.Range(0, m).OrderBy(j => MathF.Abs(values[r * m + j])).ThenBy(j => j).ToArray();
            for (int rank = 1; rank <= m; rank++)
            {
                int i = r * m + order[rank - 1];
                kept[i] = random.Uniform(i) < (density - epsilon) + 2 * epsilon * (rank - 1) / (m - 1) ? values[i] : 0f;
            }
        }
        float factor = (float)(values.Sum(v => Math.Abs((double)v)) / kept.Sum(v => Math.Abs((double)v)));
        var limited = Limit(values, Options(SparsifyMethod.Della, density, epsilon: epsilon) with { Norm = RescaleNorm.L1 }, shape: [rows, m]);
        var first = ReadAll(limited, chunk: 1_000);
        var again = ReadAll(limited, chunk: 1 << 20);
        AssertSameBits(first, again);
        for (int i = 0; i < values.Length; i++)
        {
            float expected = kept[i] * factor;
            Assert.True(Math.Abs(first[i] - expected) <= Math.Abs(expected) * 2.4e-7, $"element {i}: {first[i]} against {expected}");
        }
    }

    [Fact]
    public void Dare_rescaled_to_the_L1_norm_gives_its_draws_values_on_every_read()
    {
        // The norms' pass and every values' pass draw the same elements: direct float32 reads and chunk reads, cut
        // anywhere, read again and again, must all be the rule's output times one factor.
        const int n = 30_000;
        const double density = 0.3;
        var values = Bf16Like(n, seed: 23);
        var random = new CounterRandom(42, "model.layers.0.mlp.up_proj.weight");
        var kept = values.Select((v, i) => random.Uniform(i) < density ? v : 0f).ToArray();
        float factor = (float)(values.Sum(v => Math.Abs((double)v)) / kept.Sum(v => Math.Abs((double)v)));
        var options = Options(SparsifyMethod.Random, density) with { Norm = RescaleNorm.L1 };
        var direct = new SparsifiedTensor(new DirectArraySource("model.layers.0.mlp.up_proj.weight", values, [n]), options);
        var first = ReadAllDirect(direct, chunk: 1_001);
        AssertSameBits(first, ReadAllDirect(direct, chunk: 4_096));
        AssertSameBits(first, ReadAll(direct, chunk: 777));
        for (int i = 0; i < n; i++)
        {
            float expected = kept[i] * factor;
            Assert.True(Math.Abs(first[i] - expected) <= Math.Abs(expected) * 2.4e-7, $"element {i}: {first[i]} against {expected}");
        }
    }

    [Theory]
    [InlineData(RescaleNorm.L1)]
    [InlineData(RescaleNorm.Density)]
    public void Della_read_as_float32_into_the_callers_memory_gives_the_chunk_reads_values_at_any_cut(RescaleNorm norm)
    {
        // The merge's hot path reads vectors straight into its buffers, in chunks that cut rows. Under the L1 rescale the
        // first pass masks from the kept bits and the second (bits let go) from whole rows read around each cut; under
        // the density rule there are no bits at all. Each must be the rule's output as the tensor reads give it.
        const int rows = 6, m = 2_500;
        var values = Bf16Like(rows * m, seed: 5);
        var options = Options(SparsifyMethod.Della, 0.35, epsilon: 0.1) with { Norm = norm };
        var expected = ReadAll(Limit(values, options, shape: [rows, m]));
        var direct = new SparsifiedTensor(new DirectArraySource("model.layers.0.mlp.up_proj.weight", values, [rows, m]), options);
        AssertSameBits(expected, ReadAllDirect(direct, chunk: 1_700));
        AssertSameBits(expected, ReadAllDirect(direct, chunk: 999));
        AssertSameBits(expected, ReadAll(direct, chunk: 1_300));
    }

    [Fact]
    public void Della_with_rows_of_one_keeps_with_probability_density()
    {
        const int n = 100_000;
        var values = Enumerable.Repeat(2f, n).ToArray();
        var actual = ReadAll(Limit(values, Options(SparsifyMethod.Della, 0.25, epsilon: 0.2), shape: [n, 1]));
        var plainRandom = ReadAll(Limit(values, Options(SparsifyMethod.Random, 0.25)));
        Assert.Equal(plainRandom, actual); // p = density for every element, the same draws: exactly DARE
        Assert.All(actual, v => Assert.True(v == 0 || v == 8f));
    }

    [Fact]
    public void Della_on_a_1d_tensor_ranks_the_whole_tensor_as_one_row()
    {
        // Magnitudes 1..1000; density 0.5, epsilon 0.45: p from 0.05 (rank 1) to 0.95 (rank 1000) over the whole tensor.
        // Ranked per chunk of one element instead, every p would be the density and both quarters would keep about half.
        var values = Enumerable.Range(1, 1000).Select(i => i % 2 == 0 ? (float)i : -(float)i).ToArray();
        var actual = ReadAll(Limit(values, Options(SparsifyMethod.Della, 0.5, epsilon: 0.45)), chunk: 1);
        int keptSmall = actual.Take(250).Count(v => v != 0), keptLarge = actual.Skip(750).Count(v => v != 0);
        Assert.InRange(keptSmall, 10, 90); // about 0.16 · 250 = 40
        Assert.InRange(keptLarge, 160, 240); // about 0.84 · 250 = 210
    }

    [Theory]
    [InlineData(0.9, 0.5, "0.4 to 1.4", "below 0.1")]
    [InlineData(0.1, 0.15, "-0.05 to 0.25", "below 0.1")]
    [InlineData(0.5, 0.5, "0 to 1", "below 0.5")]
    public void Della_refuses_keep_probabilities_outside_0_to_1_as_mergekit_does(double density, double epsilon, string range, string advice)
    {
        var failure = Assert.Throws<ArgumentException>(() => Options(SparsifyMethod.Della, density, epsilon: epsilon).Validated("t"));
        Assert.Contains("'t': DELLA keeps elements with probabilities", failure.Message);
        Assert.Contains(range, failure.Message);
        Assert.Contains(advice, failure.Message);
        // Density 0 and 1 never rank (nothing or everything kept), so any epsilon goes with them, as in mergekit.
        Options(SparsifyMethod.Della, 1, epsilon: 0.5).Validated("t");
        Options(SparsifyMethod.Della, 0, epsilon: 0.5).Validated("t");
    }

    [Theory]
    [InlineData(SparsifyMethod.Random)]
    [InlineData(SparsifyMethod.Della)]
    public void Each_stream_draws_its_own_mask_as_mergekit_draws_one_per_model(SparsifyMethod rule)
    {
        // Two models' vectors share tensor names: on the same values, streams 0 and 1 keep independent sets (agreeing
        // on about d² + (1 − d)² = 0.52 of the elements at density 0.4), stream 0 the draws every vector had before.
        var values = Enumerable.Range(1, 20_000).Select(i => (float)Math.Sin(i) + 2f).ToArray();
        var first = ReadAll(Limit(values, Options(rule, 0.4, epsilon: 0.1) with { Stream = 0 }, shape: [100, 200]));
        var second = ReadAll(Limit(values, Options(rule, 0.4, epsilon: 0.1) with { Stream = 1 }, shape: [100, 200]));
        var unstreamed = ReadAll(Limit(values, Options(rule, 0.4, epsilon: 0.1), shape: [100, 200]));
        double agree = Enumerable.Range(0, values.Length).Count(i => (first[i] != 0) == (second[i] != 0)) / (double)values.Length;
        Assert.InRange(agree, 0.47, 0.57);
        Assert.Equal(unstreamed, first);
    }

    [Fact]
    public void All_zero_vector_stays_zero_under_the_random_rules()
    {
        Assert.All(ReadAll(Limit(new float[1000], Options(SparsifyMethod.Random, 0.3))), v => Assert.Equal(0f, v));
        Assert.All(ReadAll(Limit(new float[1000], Options(SparsifyMethod.Della, 0.3), shape: [10, 100])), v => Assert.Equal(0f, v));
    }
}
