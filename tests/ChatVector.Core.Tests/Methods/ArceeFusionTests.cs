using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>arcee_fusion against its definition (mergekit's arcee_fusion.py, with exact quantiles), computed here in float64 and by a full sort.</summary>
public class ArceeFusionTests
{
    static ArceeFusionTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    [Fact]
    public void Arcee_fusion_keeps_the_changes_whose_importance_stands_out()
    {
        const int rows = 40, columns = 64, n = rows * columns;
        var random = new Random(31);
        var x0 = Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() - 0.5) * 0.2)).ToArray();
        // Rows changed by very different amounts, so their divergences differ.
        var delta = Enumerable.Range(0, n).Select(i => (float)((random.NextDouble() - 0.5) * 0.002 * (1 + i / columns % 7))).ToArray();

        double[] kl = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            var xp = Enumerable.Range(0, columns).Select(j => (double)(x0[r * columns + j] + delta[r * columns + j])).ToArray();
            var xq = Enumerable.Range(0, columns).Select(j => (double)x0[r * columns + j]).ToArray();
            double zp = xp.Sum(v => Math.Exp(v - xp.Max())), zq = xq.Sum(v => Math.Exp(v - xq.Max()));
            kl[r] = Enumerable.Range(0, columns).Sum(j =>
            {
                double p = Math.Exp(xp[j] - xp.Max()) / zp + 1e-8, q = Math.Exp(xq[j] - xq.Max()) / zq + 1e-8;
                return p * Math.Log(p / q);
            });
        }
        var importance = Enumerable.Range(0, n).Select(i => (float)(Math.Abs(delta[i]) * kl[i / columns])).ToArray();
        var sorted = importance.Order().ToArray();
        float Quantile(double q) => sorted[(long)(q * (n - 1))];
        float threshold = Quantile(0.5) + 1.5f * (Quantile(0.75) - Quantile(0.25));

        var method = MethodRegistry.Find("arcee_fusion");
        var (merge, perModel) = method.CheckParameters(null, [null]);
        var output = method.Merge(new MethodInputs(new ArraySource("w", x0, [rows, columns]), [new MethodVector(new ArraySource("w", delta, [rows, columns]), perModel[0])], merge, DType.F32));
        var actual = SparsifyFixture.ReadAll(output, chunk: 500);
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            bool keep = importance[i] >= threshold;
            if (keep) kept++;
            Assert.Equal(keep ? x0[i] + delta[i] : x0[i], actual[i]);
        }
        Assert.InRange(kept, 1, n / 2); // the threshold kept some changes and dropped most
    }
}
