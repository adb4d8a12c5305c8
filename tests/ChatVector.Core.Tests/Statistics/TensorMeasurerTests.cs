using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Statistics;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.Statistics;

/// <summary>Measuring stored tensors with libtorch, against figures computed in plain C# from the values written.</summary>
public sealed class TensorMeasurerTests : TempDirTest
{
    public TensorMeasurerTests()
    {
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
    }

    private static readonly float[] X = [0.5f, -2f, 0f, 3.25f, float.NaN, 1f, float.PositiveInfinity, -0.75f];
    private static readonly float[] Reference = [1f, 1f, 2f, -1f, 5f, 0.5f, 2f, float.NaN];
    private static readonly float[] Base = [2f, 0f, 1f, 1f, float.NaN, -3f, 0f, 4f];

    /// <summary>One file holding x (F32), the reference (BF16, exact for these values) and the base (F32).</summary>
    private StoredModel Model()
    {
        var path = Dir.File("m.safetensors");
        SafeTensorsWriter.Write(path, [
            ("x", "F32", [2, 4], ValueBytes.Of(X)),
            ("ref", "BF16", [8], ValueBytes.Bf16Of(Reference)),
            ("base", "F32", [8], ValueBytes.Of(Base))]);
        return StoredModel.Open(path);
    }

    private static ITensorSource Source(StoredModel model, string name) => new StoredTensorSource(model.Find(name)!);

    private static double Finite(float v) => float.IsFinite(v) ? v : 0;

    [Fact]
    public void Figures_match_a_plain_computation_over_the_finite_values()
    {
        var model = Model();
        var statistics = TensorMeasurer.Measure(Source(model, "x"), ComputeContext.Cpu());

        var finite = X.Where(float.IsFinite).Select(v => (double)v).ToArray();
        double mean = finite.Average();
        Assert.Equal(X.Length, statistics.Elements);
        Assert.Equal((1L, 1L), (statistics.NaNCount, statistics.InfCount));
        Assert.Equal(mean, statistics.FiniteMean, 1e-12);
        Assert.Equal(Math.Sqrt(finite.Sum(v => (v - mean) * (v - mean)) / finite.Length), statistics.Std, 1e-12);
        Assert.Equal(Math.Sqrt(finite.Sum(v => v * v)), statistics.L2Norm, 1e-12);
        Assert.Equal((finite.Min(), finite.Max()), (statistics.FiniteMin, statistics.FiniteMax));
        Assert.Equal(1.0 / X.Length, statistics.ZeroFraction, 1e-12);
    }

    [Fact]
    public void Cosine_to_a_reference_and_norm_relative_to_the_base_count_non_finite_values_as_zero()
    {
        var model = Model();
        var statistics = TensorMeasurer.Measure(Source(model, "x"), ComputeContext.Cpu(), Source(model, "ref"), Source(model, "base"));

        double dot = X.Zip(Reference).Sum(p => Finite(p.First) * Finite(p.Second));
        double xx = X.Sum(v => Finite(v) * Finite(v)), rr = Reference.Sum(v => Finite(v) * Finite(v)), bb = Base.Sum(v => Finite(v) * Finite(v));
        Assert.Equal(dot / Math.Sqrt(xx * rr), statistics.Cosine!.Value, 1e-12);
        Assert.Equal(Math.Sqrt(xx / bb), statistics.RelativeNorm!.Value, 1e-12);
    }

    [Fact]
    public void FirstValues_are_the_leading_values_in_row_major_order()
    {
        var model = Model();
        Assert.Equal(X.Take(3).Select(v => (double)v), TensorMeasurer.FirstValues(Source(model, "x"), 3, ComputeContext.Cpu()));
        Assert.Equal(8, TensorMeasurer.FirstValues(Source(model, "x"), 100, ComputeContext.Cpu()).Length);
    }

    [Fact]
    public void Measuring_stops_when_cancelled()
    {
        var model = Model();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            TensorMeasurer.Measure(Source(model, "x"), ComputeContext.Cpu(new CancellationToken(canceled: true))));
    }
}
