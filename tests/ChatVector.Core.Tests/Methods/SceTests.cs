using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>sce against its definition (mergekit's sce.py), computed here by a full sort of the variances and float64 sums.</summary>
public class SceTests
{
    static SceTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    private const int N = 5000;

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.3)]
    public void Sce_selects_by_variance_weights_by_energy_and_erases_the_minority_sign(double topk)
    {
        var random = new Random(23);
        var x0 = Enumerable.Range(0, N).Select(_ => (float)((random.NextDouble() - 0.5) * 0.1)).ToArray();
        // Three bf16-like deltas (tied magnitudes, zeros) of different energies.
        var deltas = new[] { SparsifyFixture.Bf16Like(N, 1), SparsifyFixture.Bf16Like(N, 2), SparsifyFixture.Bf16Like(N, 3).Select(v => v * 0.5f).ToArray() };
        float Variance(int e)
        {
            float sum = 0f;
            foreach (var d in deltas) sum += d[e];
            float mean = sum / 3, squares = 0f;
            foreach (var d in deltas) { float x = d[e] - mean; squares += x * x; }
            return squares / 3;
        }
        var selected = new bool[N];
        if (topk >= 1) Array.Fill(selected, true);
        else
        {
            long nonzero = Enumerable.Range(0, N).Count(e => Variance(e) != 0);
            int k = (int)(topk * nonzero);
            foreach (int e in Enumerable.Range(0, N).OrderByDescending(Variance).ThenByDescending(e => e).Take(k)) selected[e] = true;
        }
        var energy = deltas.Select(d => Enumerable.Range(0, N).Where(e => selected[e]).Sum(e => (double)d[e] * d[e]) / N).ToArray();
        var weights = energy.Select(w => w / energy.Sum()).ToArray();

        var method = MethodRegistry.Find("sce");
        var (merge, perModel) = method.CheckParameters(new Dictionary<string, object> { ["select_topk"] = topk }, deltas.Select(_ => (IReadOnlyDictionary<string, object>?)null).ToList());
        var output = method.Merge(new MethodInputs(new ArraySource("w", x0, [N]), deltas.Select((d, i) => new MethodVector(new ArraySource("w", d, [N]), perModel[i])).ToList(), merge, DType.F32));
        var actual = SparsifyFixture.ReadAll(output, chunk: 999);
        for (int e = 0; e < N; e++)
        {
            double expected = x0[e];
            if (selected[e])
            {
                int majority = deltas.Sum(d => (double)d[e]) >= 0 ? 1 : -1;
                double mixed = 0, divisor = 0;
                for (int i = 0; i < 3; i++)
                    if (Math.Sign(deltas[i][e]) == majority) { mixed += weights[i] * deltas[i][e]; divisor += weights[i]; }
                expected += mixed / (divisor == 0 ? 1 : divisor);
            }
            Assert.True(Math.Abs(actual[e] - expected) <= 1e-6 * (Math.Abs(x0[e]) + deltas.Sum(d => Math.Abs(d[e]))) + 1e-12, $"element {e}: {actual[e]} against {expected}");
        }
        if (topk < 1) Assert.Contains(Enumerable.Range(0, N), e => !selected[e] && deltas.Any(d => d[e] != 0)); // the selection dropped changed elements
    }
}
