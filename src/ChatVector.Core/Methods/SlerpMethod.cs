using ChatVector.Core.Kernels;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>slerp</c>: spherical interpolation at t between the base (x₀) and one other model (x₁ = base + δ),
/// along the arc between their directions: θ from the cosine of the two whole tensors (each normalized when its norm
/// exceeds 1e-8), result s₀·x₀ + s₁·x₁ with s₀ = sin((1 − t)θ)/sin θ, s₁ = sin(tθ)/sin θ; a plain lerp
/// (1 − t)·x₀ + t·x₁ when the cosine's magnitude exceeds 0.9995 (nearly colinear). Statistics: ‖x₀‖², ‖x₁‖², x₀·x₁.
/// </summary>
public sealed class SlerpMethod : ElementwiseMethod
{
    private const double ColinearCosine = 0.9995, NormEpsilon = 1e-8;

    public override string Name => "slerp";
    public override VocabularyRowRule VocabularyRows => VocabularyRowRule.CommonRows;
    public override string Description => "spherical interpolation at t between the base and one other model";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
        [MethodParameter.Number("t", null, ParameterScope.Merge, "the place along the arc: 0 the base, 1 the other model", 0, 1)];

    public override int? ModelCount => 1;

    public override int StatisticCount(MethodInputs inputs) => 3; // ‖x₀‖², ‖x₁‖², x₀·x₁

    public override void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs)
    {
        // x₁ = base + δ, in float32 as stored; the chunk's sums in lanes (LaneSums), added to the totals chunk by chunk.
        var (s00, s11, s01) = LaneSums.Products<LaneSums.SecondAddsFirst>(chunk.Base, chunk.Vector(0));
        sums[0] += s00;
        sums[1] += s11;
        sums[2] += s01;
    }

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        var (w0, w1) = Coefficients(statistics[0], statistics[1], statistics[2], inputs.Parameters.Number("t"));
        MethodKernels.Interpolate(chunk.Base, chunk.Vector(0), w0, w1, output[..chunk.Length]);
    }

    /// <summary>The two weights, from the squared norms and the dot product of the whole tensors.</summary>
    public static (float W0, float W1) Coefficients(double squared0, double squared1, double dot01, double t)
    {
        double norm0 = Math.Sqrt(squared0), norm1 = Math.Sqrt(squared1);
        double cosine = dot01 / (norm0 > NormEpsilon ? norm0 : 1) / (norm1 > NormEpsilon ? norm1 : 1);
        if (Math.Abs(cosine) > ColinearCosine) return ((float)(1 - t), (float)t);
        double theta = PortableTrigonometry.Acos(cosine), sinTheta = PortableTrigonometry.Sin(theta);
        return ((float)(PortableTrigonometry.Sin(theta - theta * t) / sinTheta), (float)(PortableTrigonometry.Sin(theta * t) / sinTheta));
    }
}
