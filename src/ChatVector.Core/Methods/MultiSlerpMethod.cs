using ChatVector.Core.Kernels;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>multislerp</c>: barycentric interpolation of the task vectors δᵢ on the hypersphere (without a base model,
/// of the models themselves: their vectors over a base of zeros). Over the whole tensor, flattened.
/// Weights normalized to sum 1 (<c>normalize_weights</c>); unit vectors δᵢ/(‖δᵢ‖ + ε) (ε: <c>eps</c>); their weighted mean m, normalized;
/// each unit's tangent at m (uᵢ − (uᵢ·m)·m), their weighted sum τ; the exponential map m·cos‖τ‖ + τ·sin‖τ‖/‖τ‖ (‖τ‖ + ε),
/// scaled by the weighted mean of the norms; plus the base. A mean of norm below ε is refused but for two vectors,
/// which then interpolate linearly. Runs in the span of the δᵢ (<see cref="GramSpace"/>).
/// </summary>
public sealed class MultiSlerpMethod : ElementwiseMethod
{
    public override string Name => "multislerp";
    public override bool BaseOptional => true;
    public override string Description => "barycentric interpolation of the task vectors on the hypersphere";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("weight", null, ParameterScope.PerModel, "the model's weight"),
        MethodParameter.Boolean("normalize_weights", true, "divide the weights by their sum"),
        MethodParameter.Number("eps", 1e-8, ParameterScope.Merge, "added to the norms divided by, and the least norm of the weighted mean", 0),
    ];

    public override int StatisticCount(MethodInputs inputs) => inputs.Vectors.Count * inputs.Vectors.Count;

    public override void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs) =>
        GramSpace.Accumulate(chunk, plusBase: false, sums);

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        var k = Coefficients(new GramSpace(statistics, chunk.VectorCount), inputs);
        // base + k₁·δ₁ + k₂·δ₂ + …, each element's terms added in that order.
        var sum = output[..chunk.Length];
        if (k.Length == 2)
        {
            MethodKernels.AddTwoScaled(chunk.Base, k[0], chunk.Vector(0), k[1], chunk.Vector(1), sum);
            return;
        }
        chunk.Base.CopyTo(sum);
        for (int j = 0; j < k.Length; j++) MethodKernels.AddScaled(sum, k[j], chunk.Vector(j));
    }

    /// <summary>The result as Σ kⱼ·δⱼ.</summary>
    public static float[] Coefficients(GramSpace space, MethodInputs inputs)
    {
        int n = space.N;
        var weights = inputs.Vectors.Select(v => v.Parameters.Number("weight")).ToArray();
        if (n == 1) return [1f];
        double epsilon = inputs.Parameters.Number("eps");
        if (inputs.Parameters.Boolean("normalize_weights"))
        {
            double total = weights.Sum();
            weights = weights.Select(w => w / total).ToArray();
        }
        var norms = Enumerable.Range(0, n).Select(i => space.Norm(space.Basis(i))).ToArray();
        var units = Enumerable.Range(0, n).Select(i => GramSpace.Scale(space.Basis(i), 1 / (norms[i] + epsilon))).ToArray();
        var mean = space.Zero();
        for (int i = 0; i < n; i++) mean = GramSpace.Add(mean, GramSpace.Scale(units[i], weights[i]));
        double meanNorm = space.Norm(mean);
        if (meanNorm < epsilon)
        {
            if (n == 2) return [(float)weights[0], (float)weights[1]];
            throw new InvalidOperationException("multislerp: the weighted sum of the task vectors is zero (antipodal vectors with balancing weights); choose other weights.");
        }
        mean = GramSpace.Scale(mean, 1 / meanNorm);
        var tangent = space.Zero();
        for (int i = 0; i < n; i++)
        {
            var along = GramSpace.Add(units[i], GramSpace.Scale(mean, -space.Dot(units[i], mean)));
            tangent = GramSpace.Add(tangent, GramSpace.Scale(along, weights[i]));
        }
        double tangentNorm = space.Norm(tangent) + epsilon;
        var result = GramSpace.Add(GramSpace.Scale(mean, PortableTrigonometry.Cos(tangentNorm)), GramSpace.Scale(tangent, PortableTrigonometry.Sin(tangentNorm) / tangentNorm));
        double averageNorm = norms.Zip(weights, (a, w) => a * w).Sum();
        return result.Select(c => (float)(c * averageNorm)).ToArray();
    }
}
