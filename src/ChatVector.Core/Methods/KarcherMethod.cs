using ChatVector.Core.Kernels;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>karcher</c>: the Karcher (Riemannian) mean of the models' unit tensors, equal weights, scaled by the mean of
/// their norms. Tensors of norm at most <c>tol</c> are left out of the mean (they still count in the scale); the start is
/// the normalized weighted mean (the first unit when that vanishes); each of at most <c>max_iter</c> steps moves along
/// Σ αᵢ·θᵢ/sin θᵢ·(uᵢ − cos θᵢ·m), skipping units within <c>tol</c> of m, and stops when that tangent's norm is below
/// <c>tol</c>. The models are x = base + δ (the base itself when a config lists it among the models). Runs in the span of
/// the models (<see cref="GramSpace"/>).
/// </summary>
public sealed class KarcherMethod : ElementwiseMethod
{
    public override string Name => "karcher";
    public override string Description => "the Riemannian mean of the models' directions, scaled by their mean norm";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Integer("max_iter", 10, "the most iterations"),
        MethodParameter.Number("tol", 1e-5, ParameterScope.Merge, "the norms and steps taken as zero", 0),
    ];

    public override bool BaseCountsAsModel => true;
    public override bool BaseOptional => true;

    public override int StatisticCount(MethodInputs inputs) => inputs.Vectors.Count * inputs.Vectors.Count;

    public override void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs) =>
        GramSpace.Accumulate(chunk, plusBase: true, sums); // each model is base + δ

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        var k = Coefficients(new GramSpace(statistics, chunk.VectorCount), (int)inputs.Parameters.Integer("max_iter"), inputs.Parameters.Number("tol"));
        // 0 + k₁·x₁ + k₂·x₂ + …, each element's terms added in that order (three models, the usual case, in one walk).
        var sum = output[..chunk.Length];
        if (k.Length == 3)
        {
            MethodKernels.ScaledSumsOfThree(sum, k[0], k[1], k[2], chunk.Base, chunk.Vector(0), chunk.Vector(1), chunk.Vector(2));
            return;
        }
        sum.Clear();
        for (int j = 0; j < k.Length; j++) MethodKernels.AddScaledSum(sum, k[j], chunk.Base, chunk.Vector(j));
    }

    /// <summary>The result as Σ kⱼ·xⱼ.</summary>
    public static float[] Coefficients(GramSpace space, int maxIterations, double tol)
    {
        int n = space.N;
        if (n == 1) return [1f];
        double alpha = 1.0 / n;
        var norms = Enumerable.Range(0, n).Select(i => space.Norm(space.Basis(i))).ToArray();
        var units = Enumerable.Range(0, n).Select(i => norms[i] == 0 ? space.Zero() : GramSpace.Scale(space.Basis(i), 1 / norms[i])).ToArray();
        var valid = Enumerable.Range(0, n).Where(i => norms[i] > tol).ToArray();
        if (valid.Length == 0) return new float[n];
        double alphaSum = alpha * valid.Length;
        var mean = space.Zero();
        foreach (int i in valid) mean = GramSpace.Add(mean, GramSpace.Scale(units[i], alpha / alphaSum));
        double meanNorm = space.Norm(mean);
        mean = meanNorm < tol ? units[valid[0]] : GramSpace.Scale(mean, 1 / meanNorm);
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            var tangent = space.Zero();
            foreach (int i in valid)
            {
                double dot = Math.Clamp(space.Dot(mean, units[i]), -1, 1), theta = PortableTrigonometry.Acos(dot);
                if (theta < tol) continue;
                var along = GramSpace.Add(units[i], GramSpace.Scale(mean, -dot));
                tangent = GramSpace.Add(tangent, GramSpace.Scale(along, alpha / alphaSum * theta / PortableTrigonometry.Sin(theta)));
            }
            double tangentNorm = space.Norm(tangent);
            if (tangentNorm < tol) break;
            mean = GramSpace.Add(GramSpace.Scale(mean, PortableTrigonometry.Cos(tangentNorm)), GramSpace.Scale(tangent, PortableTrigonometry.Sin(tangentNorm) / tangentNorm));
            double unitNorm = space.Norm(mean);
            if (unitNorm > tol) mean = GramSpace.Scale(mean, 1 / unitNorm);
        }
        double scale = norms.Sum(norm => alpha * norm);
        return mean.Select(c => (float)(c * scale)).ToArray();
    }
}
