using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>slerp and nearswap against their definitions (mergekit's slerp.py and nearswap.py), computed here in float64.</summary>
public class InterpolationMethodsTests
{
    static InterpolationMethodsTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    private const int N = 4099;

    [Theory]
    [InlineData(0.002, 0.3)]  // a chat vector's few bf16 steps: nearly colinear, the lerp branch
    [InlineData(0.5, 0.3)]    // a large change: the arc
    [InlineData(0.5, 0.0)]
    [InlineData(0.5, 1.0)]
    public void Slerp_follows_its_definition_on_both_branches(double deltaScale, double t)
    {
        var (x0, delta) = Pair(deltaScale, seed: 3);
        var x1 = x0.Zip(delta, (a, d) => (double)(a + d)).ToArray();
        double n0 = Math.Sqrt(x0.Sum(a => (double)a * a)), n1 = Math.Sqrt(x1.Sum(b => b * b));
        double cosine = x0.Select((a, i) => a * x1[i]).Sum() / n0 / n1;
        double w0, w1;
        if (Math.Abs(cosine) > 0.9995) (w0, w1) = (1 - t, t);
        else
        {
            double theta = Math.Acos(cosine);
            (w0, w1) = (Math.Sin((1 - t) * theta) / Math.Sin(theta), Math.Sin(t * theta) / Math.Sin(theta));
        }
        Assert.Equal(deltaScale < 0.01, Math.Abs(cosine) > 0.9995); // each case is on the branch it names

        var actual = Run("slerp", x0, delta, t);
        // float32 arithmetic: two products and a sum, each rounded (and weights rounded to float32): a few ulps of the terms.
        for (int i = 0; i < N; i++)
        {
            double expected = w0 * x0[i] + w1 * x1[i], scale = Math.Abs(w0 * x0[i]) + Math.Abs(w1 * x1[i]);
            Assert.True(Math.Abs(actual[i] - expected) <= 5e-7 * scale + 1e-12, $"element {i}: {actual[i]} against {expected}");
        }
        if (t == 0) Assert.Equal(x0, actual);
        if (t == 1) Assert.Equal(x1.Select(x => (float)x), actual);
    }

    [Theory]
    [InlineData(1e-4)]
    [InlineData(1e-2)]
    [InlineData(10.0)]
    public void NearSwap_follows_its_definition(double t)
    {
        var (x0, delta) = Pair(0.01, seed: 5);
        var actual = Run("nearswap", x0, delta, t);
        for (int i = 0; i < N; i++)
        {
            float x1 = x0[i] + delta[i];
            double difference = Math.Abs((double)x0[i] - x1);
            double weight = difference == 0 ? 1 : Math.Clamp(t / difference, 0, 1);
            double expected = weight * x1 + (1 - weight) * x0[i];
            double scale = Math.Abs(weight * x1) + Math.Abs((1 - weight) * x0[i]);
            Assert.True(Math.Abs(actual[i] - expected) <= 5e-7 * scale + 1e-12, $"element {i}: {actual[i]} against {expected}");
        }
        if (t >= 10) Assert.Equal(x0.Zip(delta, (a, d) => a + d), actual); // every weight 1: the other model
    }

    [Fact]
    public void The_interpolations_take_t_and_exactly_one_model_besides_the_base()
    {
        foreach (var name in new[] { "slerp", "nearswap" })
        {
            var method = MethodRegistry.Find(name);
            Assert.Equal(1, method.ModelCount);
            var missing = Assert.Throws<MethodParameterException>(() => method.CheckParameters(null, [null]));
            Assert.Contains("'t' is required", missing.Message);
        }
        Assert.Throws<MethodParameterException>(() => MethodRegistry.Find("nearswap").CheckParameters(new Dictionary<string, object> { ["t"] = 0.0 }, [null]));
    }

    /// <summary>A bf16 base and a delta of about <paramref name="scale"/> of its values.</summary>
    private static (float[] Base, float[] Delta) Pair(double scale, int seed)
    {
        var random = new Random(seed);
        static float Bf16(double x) => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits((float)x) & 0xFFFF_0000u);
        var x0 = Enumerable.Range(0, N).Select(_ => Bf16((random.NextDouble() - 0.5) * 0.1)).ToArray();
        var x1 = x0.Select(a => Bf16(a + (random.NextDouble() - 0.5) * 0.1 * scale * 2)).ToArray();
        return (x0, x0.Select((a, i) => x1[i] - a).ToArray());
    }

    private static float[] Run(string name, float[] x0, float[] delta, double t)
    {
        var method = MethodRegistry.Find(name);
        var (merge, perModel) = method.CheckParameters(new Dictionary<string, object> { ["t"] = t }, [null]);
        var output = method.Merge(new MethodInputs(new ArraySource("w", x0, [N]), [new MethodVector(new ArraySource("w", delta, [N]), perModel[0])], merge, DType.F32));
        return SparsifyFixture.ReadAll(output, chunk: 1000);
    }
}
