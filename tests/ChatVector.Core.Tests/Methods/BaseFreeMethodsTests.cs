using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tests.Sparsify;
using ChatVector.TestKit.Independent;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>
/// nuslerp and multislerp without a base model, as mergekit runs them (nuslerp.py, multislerp.py: the models themselves
/// interpolated), against their definitions computed here in float64, on bf16 models that are small changes of one
/// bf16 model (a few bf16 steps), as fine-tunes of one base are.
/// </summary>
public class BaseFreeMethodsTests
{
    static BaseFreeMethodsTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    private const int Rows = 12, Columns = 40;

    [Theory]
    [InlineData(true, false, 0.6, 0.4, 3)]   // the whole tensor (mergekit's default)
    [InlineData(false, false, 0.6, 0.4, 3)]  // each row (dim -1)
    [InlineData(false, true, 0.6, 0.4, 3)]   // each column (nuslerp_row_wise: dim 0)
    [InlineData(true, true, 0.3, 0.9, 3)]    // flatten wins over row_wise
    [InlineData(false, false, -0.5, 0.5, 3)] // weights summing to 0: t = 0.5
    [InlineData(false, false, 0.6, 0.4, 60)] // models further apart: wider angles
    [InlineData(false, true, 0.2, 0.8, 60)]
    public void NuSlerp_without_a_base_interpolates_the_two_models(bool flatten, bool rowWise, double w1, double w2, int steps)
    {
        var models = Models(2, seed: 21, steps);
        var actual = Run("nuslerp", models, [w1, w2], new Dictionary<string, object> { ["nuslerp_flatten"] = flatten, ["nuslerp_row_wise"] = rowWise }, [Rows, Columns]);

        double t = Math.Abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
        var expected = NuSlerpDefinition(t, models[0], models[1], flatten, rowWise);
        AssertClose(expected, actual, models);
        // The tolerance tells the spherical interpolation from a linear one: the check could fail.
        var linear = models[0].Select((v, i) => (1 - t) * v + t * models[1][i]).ToArray();
        Assert.Contains(Enumerable.Range(0, linear.Length), i => Math.Abs(linear[i] - expected[i]) > 3 * Tolerance(models, i));
    }

    [Fact]
    public void NuSlerp_without_a_base_lerps_rows_where_the_models_agree()
    {
        var models = Models(2, seed: 22);
        for (int j = 0; j < Columns; j++) models[1][3 * Columns + j] = models[0][3 * Columns + j]; // row 3 unchanged by the second model
        var actual = Run("nuslerp", models, [0.6, 0.4], new Dictionary<string, object> { ["nuslerp_flatten"] = false }, [Rows, Columns]);
        var expected = NuSlerpDefinition(0.4, models[0], models[1], flatten: false, rowWise: false);
        AssertClose(expected, actual, models);
        for (int j = 0; j < Columns; j++) Assert.Equal(models[0][3 * Columns + j], actual[3 * Columns + j], 6);
    }

    [Theory]
    [InlineData(new[] { 0.6, 0.4 }, true, 1e-8)]
    [InlineData(new[] { 1.0, 2.0, 0.5 }, true, 1e-8)]
    [InlineData(new[] { 1.0, 2.0, 0.5 }, false, 1e-8)]
    [InlineData(new[] { 0.6, 0.4 }, true, 0.5)] // eps is the config's: a large one changes the units and the result
    public void MultiSlerp_without_a_base_follows_its_definition(double[] weights, bool normalizeWeights, double eps)
    {
        var models = Models(weights.Length, seed: 23);
        var actual = Run("multislerp", models, weights, new Dictionary<string, object> { ["normalize_weights"] = normalizeWeights, ["eps"] = eps }, [Rows, Columns]);
        var expected = MultiSlerpDefinition(models.Select(m => m.Select(v => (double)v).ToArray()).ToArray(), weights, normalizeWeights, eps);
        AssertClose(expected, actual, models);
        if (eps > 0.1)
        {
            var withDefault = Run("multislerp", models, weights, new Dictionary<string, object> { ["normalize_weights"] = normalizeWeights }, [Rows, Columns]);
            Assert.NotEqual(withDefault, actual);
        }
    }

    /// <summary>mergekit's nuslerp(t, v0, v1, dim, eps 1e-8, flatten) in float64: groups, unit vectors (norms clamped to 1e-7), slerp or lerp.</summary>
    private static double[] NuSlerpDefinition(double t, float[] v0, float[] v1, bool flatten, bool rowWise)
    {
        int n = v0.Length;
        Func<int, int> groupOf = flatten ? _ => 0 : rowWise ? i => i % Columns : i => i / Columns;
        var result = new double[n];
        foreach (var group in Enumerable.Range(0, n).GroupBy(groupOf))
        {
            var members = group.ToArray();
            double n0 = Math.Max(Math.Sqrt(members.Sum(i => (double)v0[i] * v0[i])), 1e-7);
            double n1 = Math.Max(Math.Sqrt(members.Sum(i => (double)v1[i] * v1[i])), 1e-7);
            double cosine = members.Sum(i => v0[i] / n0 * (v1[i] / n1));
            double theta = Math.Acos(Math.Clamp(cosine, -1, 1)), sinTheta = Math.Sin(theta);
            foreach (int i in members)
                result[i] = Math.Abs(sinTheta) < 1e-8
                    ? (1 - t) * v0[i] + t * v1[i]
                    : (Math.Sin((1 - t) * theta) * v0[i] + Math.Sin(t * theta) * v1[i]) / sinTheta;
        }
        return result;
    }

    /// <summary>mergekit's multislerp(tensors, weight, no base, normalize_weights, eps) in float64, over the flattened tensors.</summary>
    private static double[] MultiSlerpDefinition(double[][] x, double[] weights, bool normalizeWeights, double eps)
    {
        var w = normalizeWeights ? weights.Select(v => v / weights.Sum()).ToArray() : weights;
        var norms = x.Select(Norm).ToArray();
        var units = x.Select((v, i) => Scale(v, 1 / (norms[i] + eps))).ToArray();
        var mean = units.Select((u, i) => Scale(u, w[i])).Aggregate(Add);
        mean = Scale(mean, 1 / Norm(mean));
        var tangent = units.Select((u, i) => Scale(Add(u, Scale(mean, -Dot(u, mean))), w[i])).Aggregate(Add);
        double tangentNorm = Norm(tangent) + eps;
        var result = Add(Scale(mean, Math.Cos(tangentNorm)), Scale(tangent, Math.Sin(tangentNorm) / tangentNorm));
        return Scale(result, norms.Zip(w, (a, b) => a * b).Sum());
    }

    /// <summary>
    /// bf16 models that are one bf16 model changed by a few bf16 steps (between −steps and steps units in the last place per element,
    /// a tenth unchanged; more with <paramref name="steps"/>), the values as stored (each exactly a bf16).
    /// </summary>
    private static float[][] Models(int count, int seed, int steps = 3)
    {
        var random = new Random(seed);
        var original = Enumerable.Range(0, Rows * Columns).Select(_ => Bf16.ToFloat(Bf16.FromFloat((float)((random.NextDouble() - 0.5) * 0.08)))).ToArray();
        return Enumerable.Range(0, count).Select(_ => original.Select(v =>
        {
            int change = random.Next(10) == 0 ? 0 : random.Next(-steps, steps + 1);
            ushort bits = Bf16.FromFloat(v);
            return (bits & 0x7FFF) < 128 ? v : Bf16.ToFloat((ushort)(bits + change)); // steps that would cross zero are left out
        }).ToArray()).ToArray();
    }

    private static float[] Run(string name, float[][] models, double[] weights, Dictionary<string, object> mergeValues, long[] shape)
    {
        var method = MethodRegistry.Find(name);
        Assert.True(method.BaseOptional);
        var (merge, perModel) = method.CheckParameters(mergeValues,
            weights.Select(w => (IReadOnlyDictionary<string, object>?)new Dictionary<string, object> { ["weight"] = w }).ToList());
        var vectors = models.Select((m, i) => new MethodVector(new ArraySource("model.layers.0.mlp.up_proj.weight", m, shape, DType.BF16), perModel[i])).ToList();
        return SparsifyFixture.ReadAll(method.Merge(MethodInputs.WithoutBase(vectors, merge, DType.F32)), chunk: 333);
    }

    private static void AssertClose(double[] expected, float[] actual, float[][] models)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= Tolerance(models, i), $"element {i}: {actual[i]:R} against {expected[i]:R}");
    }

    /// <summary>float32 arithmetic on coefficients computed in float64: a few float32 roundings of the inputs' size.</summary>
    private static double Tolerance(float[][] models, int i) => 4e-6 * models.Sum(m => Math.Abs(m[i])) + 1e-9;

    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();
    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));
    private static double[] Scale(double[] a, double s) => a.Select(x => x * s).ToArray();
    private static double[] Add(double[] a, double[] b) => a.Zip(b, (x, y) => x + y).ToArray();
}
