using ChatVector.Core.Kernels;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>nearswap</c>: per element, w = clamp(t / |x₀ − x₁|, 0, 1) (1 where the models agree, |x₀ − x₁| = 0),
/// and w·x₁ + (1 − w)·x₀: the other model's value where it is within t of the base's, moving back towards the base's
/// the further they differ. x₀ is the base, x₁ = base + δ the one other model. No statistics.
/// </summary>
public sealed class NearSwapMethod : ElementwiseMethod
{
    public override string Name => "nearswap";
    public override string Description => "the other model's value where it lies near the base's, the base's where they differ";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
        [MethodParameter.Number("t", null, ParameterScope.Merge, "the sameness threshold (greater than 0)", double.Epsilon)];

    public override int? ModelCount => 1;

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output) =>
        MethodKernels.NearSwap(chunk.Base, chunk.Vector(0), (float)inputs.Parameters.Number("t"), output);
}
