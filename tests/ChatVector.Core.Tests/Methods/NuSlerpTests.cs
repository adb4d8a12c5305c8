using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>nuslerp with a base against its definition (mergekit's nuslerp.py), computed here in float64.</summary>
public class NuSlerpTests
{
    static NuSlerpTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    [Theory]
    [InlineData(true, false, 1.0, 3.0)]   // the whole tensor (the default)
    [InlineData(false, false, 1.0, 1.0)]  // each row
    [InlineData(false, true, 2.0, 1.0)]   // each column
    [InlineData(true, false, 1.0, -1.0)]  // weights summing to 0: t = 0.5
    public void NuSlerp_interpolates_the_task_vectors_over_the_tensor_its_rows_or_its_columns(bool flatten, bool rowWise, double w1, double w2)
    {
        const int rows = 12, columns = 40;
        var random = new Random(7);
        float[] Values(double scale) => Enumerable.Range(0, rows * columns).Select(_ => (float)((random.NextDouble() - 0.5) * scale)).ToArray();
        var x0 = Values(0.1);
        var d1 = Values(0.01);
        var d2 = d1.Select(x => x * 0.5f + (float)((random.NextDouble() - 0.5) * 0.01)).ToArray();

        var method = MethodRegistry.Find("nuslerp");
        var (merge, perModel) = method.CheckParameters(new Dictionary<string, object> { ["nuslerp_flatten"] = flatten, ["nuslerp_row_wise"] = rowWise },
            [new Dictionary<string, object> { ["weight"] = w1 }, new Dictionary<string, object> { ["weight"] = w2 }]);
        var output = method.Merge(new MethodInputs(new ArraySource("w", x0, [rows, columns]),
            [new MethodVector(new ArraySource("w", d1, [rows, columns]), perModel[0]), new MethodVector(new ArraySource("w", d2, [rows, columns]), perModel[1])],
            merge, DType.F32));
        var actual = SparsifyFixture.ReadAll(output, chunk: 333);

        double t = Math.Abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
        int Group(int i) => flatten ? 0 : rowWise ? i % columns : i / columns;
        for (int i = 0; i < rows * columns; i++)
        {
            var members = Enumerable.Range(0, rows * columns).Where(j => Group(j) == Group(i)).ToArray();
            double n1 = Math.Sqrt(members.Sum(j => (double)d1[j] * d1[j])), n2 = Math.Sqrt(members.Sum(j => (double)d2[j] * d2[j]));
            double cosine = members.Sum(j => (double)d1[j] * d2[j]) / Math.Max(n1, 1e-7) / Math.Max(n2, 1e-7);
            double theta = Math.Acos(Math.Clamp(cosine, -1, 1));
            double expected = x0[i] + (Math.Sin((1 - t) * theta) * d1[i] + Math.Sin(t * theta) * d2[i]) / Math.Sin(theta);
            Assert.True(Math.Abs(actual[i] - expected) <= 2e-6 * (Math.Abs(x0[i]) + Math.Abs(d1[i]) + Math.Abs(d2[i])) + 1e-9, $"element {i}: {actual[i]} against {expected}");
            if (i > 60 && !flatten) break; // enough groups checked for the per-row and per-column cases
        }
    }
}
