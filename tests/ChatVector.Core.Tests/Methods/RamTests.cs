using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>ram and ramplus_tl against their definitions (mergekit's ram.py), computed here in float64.</summary>
public class RamTests
{
    static RamTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    private const int N = 3000;

    [Theory]
    [InlineData("ram")]
    [InlineData("ramplus_tl")]
    public void Ram_takes_unique_changes_whole_and_averages_shared_ones(string name)
    {
        // Sparse task vectors, as fine-tunes of one base are: each changes about half the elements, many below epsilon.
        var random = new Random(21);
        var x0 = Enumerable.Range(0, N).Select(_ => (float)((random.NextDouble() - 0.5) * 0.1)).ToArray();
        float Change() => random.Next(3) switch { 0 => 0f, 1 => (float)((random.NextDouble() - 0.5) * 1e-5), _ => (float)((random.NextDouble() - 0.5) * 0.01) };
        var deltas = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, N).Select(_ => Change()).ToArray()).ToArray();
        const double epsilon = 1e-5, r = 0.1, alpha = 0.2;

        var changed = deltas.Select(d => d.Select(v => Math.Abs(v) > epsilon).ToArray()).ToArray();
        var counts = Enumerable.Range(0, N).Select(e => changed.Count(c => c[e])).ToArray();
        var lambdas = deltas.Select((_, i) =>
        {
            double shared = Enumerable.Range(0, N).Count(e => changed[i][e] && counts[e] > 1), alone = Enumerable.Range(0, N).Count(e => changed[i][e] && counts[e] == 1);
            return name == "ram" ? 1.0 : 1 + r * Math.Clamp(shared / Math.Max(alone, epsilon), 0, alpha);
        }).ToArray();
        Assert.True(counts.Count(c => c == 1) > 100 && counts.Count(c => c > 1) > 100, "the case has both unique and shared changes");

        var method = MethodRegistry.Find(name);
        var (merge, perModel) = method.CheckParameters(null, deltas.Select(_ => (IReadOnlyDictionary<string, object>?)null).ToList());
        var output = method.Merge(new MethodInputs(new ArraySource("w", x0, [N]), deltas.Select((d, i) => new MethodVector(new ArraySource("w", d, [N]), perModel[i])).ToList(), merge, DType.F32));
        var actual = SparsifyFixture.ReadAll(output, chunk: 700);
        for (int e = 0; e < N; e++)
        {
            double merged = 0;
            for (int i = 0; i < deltas.Length; i++)
                if (changed[i][e]) merged += counts[e] == 1 ? deltas[i][e] * lambdas[i] : (double)deltas[i][e] / counts[e];
            double expected = x0[e] + merged;
            Assert.True(Math.Abs(actual[e] - expected) <= 2e-7 * (Math.Abs(x0[e]) + deltas.Sum(d => Math.Abs(d[e]))) + 1e-12, $"element {e}: {actual[e]} against {expected}");
        }
    }

    [Theory]
    [InlineData(false, 3, 1_003)]
    [InlineData(true, 3, 1_003)]
    [InlineData(true, 2, 37)]
    [InlineData(false, 1, 13)]
    public void The_SIMD_rule_gives_each_element_the_element_by_element_rules_bits(bool scaled, int models, int length)
    {
        // Lanes at and around epsilon, signed zeros, NaN and subnormals; lengths that leave a tail for the scalar loop.
        var random = new Random(models * 7 + length);
        const float epsilon = 1e-5f;
        float Value() => random.Next(9) switch
        {
            0 => 0f, 1 => -0f, 2 => float.NaN, 3 => float.Epsilon, 4 => epsilon, 5 => -epsilon * 1.5f,
            _ => (float)((random.NextDouble() - 0.5) * 0.01),
        };
        var @base = Enumerable.Range(0, length).Select(_ => Value()).ToArray();
        var vectors = Enumerable.Range(0, models).Select(_ => Enumerable.Range(0, length).Select(_ => Value()).ToArray()).ToArray();
        float[]? scales = scaled ? Enumerable.Range(0, models).Select(i => 1.05f + 0.01f * i).ToArray() : null;
        var output = new float[length];
        RamRule.Merge(new ChunkValues(0, @base, vectors, length), epsilon, scales, output);
        for (int e = 0; e < length; e++)
        {
            // ram.py's rule for one element, written out as the scalar loop computes it in float32.
            int count = vectors.Count(v => MathF.Abs(v[e]) > epsilon);
            float unique = count == 1 ? 1f : 0f, overlap = count > 1 ? 1f : 0f, divisor = Math.Max(count, 1);
            float merged = 0f;
            for (int i = 0; i < models; i++)
            {
                float kept = MathF.Abs(vectors[i][e]) > epsilon ? vectors[i][e] : 0f;
                float alone = kept * unique;
                if (scales is not null) alone *= scales[i];
                merged += alone + kept * overlap / divisor;
            }
            float expected = @base[e] + merged;
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(output[e]), $"element {e}: {output[e]} against {expected}");
        }
    }
}
