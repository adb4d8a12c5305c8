using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>multislerp and karcher against their definitions (mergekit's multislerp.py and karcher.py), run here on whole float64 tensors.</summary>
public class SphericalMeansTests
{
    static SphericalMeansTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    private const int N = 2000;

    [Theory]
    [InlineData(new[] { 1.0, 1.0 }, true)]
    [InlineData(new[] { 1.0, 2.0, 0.5 }, true)]
    [InlineData(new[] { 1.0, 2.0, 0.5 }, false)]
    public void MultiSlerp_follows_its_definition(double[] weights, bool normalizeWeights)
    {
        var (x0, deltas) = Inputs(weights.Length, seed: 11);
        var y = deltas.Select(d => d.Select(v => (double)v).ToArray()).ToArray();
        var w = normalizeWeights ? weights.Select(x => x / weights.Sum()).ToArray() : weights;
        var norms = y.Select(Norm).ToArray();
        var units = y.Select((v, i) => v.Select(e => e / (norms[i] + 1e-8)).ToArray()).ToArray();
        var mean = Sum(units.Select((u, i) => Scale(u, w[i])));
        mean = Scale(mean, 1 / Norm(mean));
        var tangent = Sum(units.Select((u, i) => Scale(Add(u, Scale(mean, -Dot(u, mean))), w[i])));
        double tn = Norm(tangent) + 1e-8;
        var result = Scale(Add(Scale(mean, Math.Cos(tn)), Scale(tangent, Math.Sin(tn) / tn)), norms.Zip(w, (a, b) => a * b).Sum());
        var expected = result.Select((r, i) => r + x0[i]).ToArray();

        var actual = Run("multislerp", x0, deltas, weights.Select(x => (IReadOnlyDictionary<string, object>?)new Dictionary<string, object> { ["weight"] = x }).ToList(),
            new Dictionary<string, object> { ["normalize_weights"] = normalizeWeights });
        AssertClose(expected, actual, x0, deltas);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Karcher_follows_its_definition(int models)
    {
        var (x0, deltas) = Inputs(models, seed: 13);
        var x = deltas.Select(d => d.Select((v, i) => (double)(x0[i] + v)).ToArray()).ToArray();
        double alpha = 1.0 / models, tol = 1e-5;
        var norms = x.Select(Norm).ToArray();
        var units = x.Select((v, i) => Scale(v, 1 / norms[i])).ToArray();
        var mean = Sum(units.Select(u => Scale(u, alpha / (alpha * models))));
        mean = Scale(mean, 1 / Norm(mean));
        for (int iteration = 0; iteration < 10; iteration++)
        {
            var tangent = new double[N];
            foreach (var u in units)
            {
                double dot = Math.Clamp(Dot(mean, u), -1, 1), theta = Math.Acos(dot);
                if (theta < tol) continue;
                tangent = Add(tangent, Scale(Add(u, Scale(mean, -dot)), alpha * theta / Math.Sin(theta)));
            }
            double tn = Norm(tangent);
            if (tn < tol) break;
            mean = Add(Scale(mean, Math.Cos(tn)), Scale(tangent, Math.Sin(tn) / tn));
            mean = Scale(mean, 1 / Norm(mean));
        }
        var expected = Scale(mean, norms.Sum(n => alpha * n));

        var actual = Run("karcher", x0, deltas, deltas.Select(_ => (IReadOnlyDictionary<string, object>?)null).ToList(), null);
        AssertClose(expected, actual, x0, deltas);
    }

    private static void AssertClose(double[] expected, float[] actual, float[] x0, float[][] deltas)
    {
        for (int i = 0; i < N; i++)
        {
            double scale = Math.Abs(x0[i]) + deltas.Sum(d => Math.Abs(d[i])) * 4;
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 2e-6 * scale + 1e-9, $"element {i}: {actual[i]} against {expected[i]}");
        }
    }

    private static (float[] Base, float[][] Deltas) Inputs(int models, int seed)
    {
        var random = new Random(seed);
        var x0 = Enumerable.Range(0, N).Select(_ => (float)((random.NextDouble() - 0.5) * 0.1)).ToArray();
        var deltas = Enumerable.Range(0, models).Select(_ => Enumerable.Range(0, N).Select(_ => (float)((random.NextDouble() - 0.3) * 0.02)).ToArray()).ToArray();
        return (x0, deltas);
    }

    private static float[] Run(string name, float[] x0, float[][] deltas, IReadOnlyList<IReadOnlyDictionary<string, object>?> perModelValues, Dictionary<string, object>? mergeValues)
    {
        var method = MethodRegistry.Find(name);
        var (merge, perModel) = method.CheckParameters(mergeValues, perModelValues);
        var output = method.Merge(new MethodInputs(new ArraySource("w", x0, [N]), deltas.Select((d, i) => new MethodVector(new ArraySource("w", d, [N]), perModel[i])).ToList(), merge, DType.F32));
        return SparsifyFixture.ReadAll(output, chunk: 777);
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();
    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));
    private static double[] Scale(double[] a, double s) => a.Select(x => x * s).ToArray();
    private static double[] Add(double[] a, double[] b) => a.Zip(b, (x, y) => x + y).ToArray();
    private static double[] Sum(IEnumerable<double[]> vectors) => vectors.Aggregate(new double[N], Add);
}
