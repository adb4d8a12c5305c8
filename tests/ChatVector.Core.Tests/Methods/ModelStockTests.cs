using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>model_stock against its definition (mergekit's model_stock.py), computed here in float64.</summary>
public class ModelStockTests
{
    static ModelStockTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    public void Model_stock_pulls_the_average_towards_the_base_by_the_mean_angle(int models, bool filterWise)
    {
        const int rows = 30, columns = 70;
        var random = new Random(models * 10 + (filterWise ? 1 : 0));
        var x0 = Enumerable.Range(0, rows * columns).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
        // Correlated task vectors (a shared direction plus each model's own), so the angle matters.
        var shared = Enumerable.Range(0, rows * columns).Select(_ => (float)(random.NextDouble() - 0.5) * 0.01f).ToArray();
        var deltas = Enumerable.Range(0, models).Select(_ => shared.Select(s => s + (float)(random.NextDouble() - 0.5) * 0.01f).ToArray()).ToArray();

        var method = MethodRegistry.Find("model_stock");
        var (merge, perModel) = method.CheckParameters(new Dictionary<string, object> { ["filter_wise"] = filterWise }, deltas.Select(_ => (IReadOnlyDictionary<string, object>?)null).ToList());
        var output = method.Merge(new MethodInputs(new ArraySource("w", x0, [rows, columns]),
            deltas.Select((d, i) => new MethodVector(new ArraySource("w", d, [rows, columns]), perModel[i])).ToList(), merge, DType.F32));
        var actual = SparsifyFixture.ReadAll(output, chunk: 997);

        for (int group = 0; group < (filterWise ? rows : 1); group++)
        {
            int from = filterWise ? group * columns : 0, to = filterWise ? from + columns : rows * columns;
            double Dot(float[] a, float[] b) { double s = 0; for (int i = from; i < to; i++) s += (double)a[i] * b[i]; return s; }
            var cosines = new List<double>();
            for (int a = 0; a < models; a++)
                for (int b = a + 1; b < models; b++)
                    cosines.Add(Math.Clamp(Dot(deltas[a], deltas[b]) / Math.Max(Math.Sqrt(Dot(deltas[a], deltas[a])) * Math.Sqrt(Dot(deltas[b], deltas[b])), 1e-6), -1, 1));
            double cosine = cosines.Average(), t = models * cosine / (1 + (models - 1) * cosine);
            Assert.InRange(t, 0.2, 1.0); // the case exercises a real pull towards the base
            for (int i = from; i < to; i++)
            {
                double average = deltas.Average(d => (double)x0[i] + d[i]);
                double expected = t * average + (1 - t) * x0[i];
                Assert.True(Math.Abs(actual[i] - expected) <= 1e-6 * (Math.Abs(average) + Math.Abs(x0[i])) + 1e-12, $"element {i}: {actual[i]} against {expected}");
            }
        }
    }

    [Fact]
    public void Model_stock_needs_two_models_besides_the_base() => Assert.Equal(2, MethodRegistry.Find("model_stock").MinimumModelCount);
}
