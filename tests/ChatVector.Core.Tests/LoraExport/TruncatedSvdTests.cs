using ChatVector.Core.LoraExport;
using ChatVector.Core.Runtime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ChatVector.Core.Tests.LoraExport;

/// <summary>
/// The randomized SVD against matrices of known spectrum (built here as U·diag(σ)·Vᵀ from orthonormal factors in
/// float64) and against a realistic delta's exact tail (a float64 SVD here).
/// </summary>
public sealed class TruncatedSvdTests
{
    public TruncatedSvdTests()
    {
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>A rows × columns float32 matrix with singular values <paramref name="spectrum"/>, in random directions.</summary>
    private static Tensor WithSpectrum(int rows, int columns, double[] spectrum, ulong seed)
    {
        using var generator = new Generator(seed);
        var (u, _) = linalg.qr(randn([rows, spectrum.Length], ScalarType.Float64, generator: generator));
        var (v, _) = linalg.qr(randn([columns, spectrum.Length], ScalarType.Float64, generator: generator));
        return u.mul(tensor(spectrum).unsqueeze(0)).matmul(v.t()).to(ScalarType.Float32);
    }

    private static double SquaredError(Tensor matrix, SvdFactors factors) =>
        matrix.to(ScalarType.Float64).sub(factors.U.to(ScalarType.Float64).mul(factors.S.to(ScalarType.Float64).unsqueeze(0)).matmul(factors.Vh.to(ScalarType.Float64)))
            .square().sum().item<double>();

    [Fact]
    public void On_a_decaying_spectrum_the_randomized_error_is_the_optimal_one()
    {
        var spectrum = Enumerable.Range(0, 200).Select(i => Math.Pow(0.93, i)).ToArray();
        using var matrix = WithSpectrum(300, 420, spectrum, 5);
        Assert.True(TruncatedSvd.UsesRandomized(24, 300));
        using var factors = TruncatedSvd.Compute(matrix, 24, exact: false, seed: 11);
        double optimal = spectrum.Skip(24).Sum(s => s * s);
        Assert.InRange(Math.Sqrt(SquaredError(matrix, factors) / optimal) - 1, -1e-4, 1e-4);
        var found = factors.S.to(ScalarType.Float64).data<double>().ToArray();
        for (int i = 0; i < 24; i++) Assert.InRange(found[i] / spectrum[i] - 1, -1e-4, 1e-4);
    }

    [Fact]
    public void On_a_flat_spectrum_the_randomized_error_stays_within_a_stated_bound_of_the_optimal()
    {
        // The hard case: noise-like deltas have no gap after rank k. The power iterations still keep the excess of
        // the error over the optimal (the exact tail) small; this is the bound the export's documentation states.
        var random = new Random(3);
        var spectrum = Enumerable.Range(0, 256).Select(i => 1 + 0.3 * Math.Exp(-i / 20.0) + 0.01 * random.NextDouble()).OrderDescending().ToArray();
        using var matrix = WithSpectrum(256, 640, spectrum, 9);
        using var factors = TruncatedSvd.Randomized(matrix, 16, seed: 4);
        double optimal = spectrum.Skip(16).Sum(s => s * s), total = spectrum.Sum(s => s * s);
        double error = SquaredError(matrix, factors);
        // Within 1% of the optimal Frobenius error (the documented bound), and never below it.
        Assert.InRange(Math.Sqrt(error / optimal), 1 - 1e-4, 1.01);
        // The kept share a report gives, Σ S² / ‖A‖², is the true one: the error is ‖A‖² − Σ S².
        double kept = factors.S.to(ScalarType.Float64).square().sum().item<double>();
        Assert.InRange((total - kept) / error - 1, -1e-4, 1e-4);
    }

    [Fact]
    public void The_same_seed_gives_the_same_factors_and_exact_agrees_at_full_rank()
    {
        var spectrum = Enumerable.Range(0, 64).Select(i => 1.0 / (i + 1)).ToArray();
        using var matrix = WithSpectrum(128, 96, spectrum, 2);
        using var first = TruncatedSvd.Compute(matrix, 8, exact: false, seed: 42);
        using var second = TruncatedSvd.Compute(matrix, 8, exact: false, seed: 42);
        Assert.True(first.U.eq(second.U).all().item<bool>() && first.S.eq(second.S).all().item<bool>() && first.Vh.eq(second.Vh).all().item<bool>());
        using var exact = TruncatedSvd.Compute(matrix, 96, exact: false, seed: 42);
        Assert.False(TruncatedSvd.UsesRandomized(96, 96));
        Assert.True(SquaredError(matrix, exact) < 1e-10 * spectrum.Sum(s => s * s));
    }
}
