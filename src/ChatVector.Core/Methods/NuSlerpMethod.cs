using ChatVector.Core.Kernels;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>nuslerp</c>: with a base model, base + the spherical interpolation of the two models' task vectors δ₁, δ₂ at
/// t = w₂ / (w₁ + w₂) (0.5 when |w₁ + w₂| &lt; 1e-6), over the whole tensor (<c>nuslerp_flatten</c>, the default), or per
/// row (each vector along the last dimension), or per column (<c>nuslerp_row_wise</c>). Per group: cos θ = δ₁·δ₂ over
/// the norms (each at least 1e-7), θ = acos of it clamped to [−1, 1], then (sin((1 − t)θ)·δ₁ + sin(tθ)·δ₂) / sin θ, or
/// (1 − t)·δ₁ + t·δ₂ where |sin θ| &lt; 1e-8 (colinear). Statistics: ‖δ₁‖², ‖δ₂‖², δ₁·δ₂ per group. Without a base model
/// the same interpolation of the two models themselves (their vectors over a base of zeros).
/// </summary>
public sealed class NuSlerpMethod : ElementwiseMethod
{
    public override string Name => "nuslerp";
    public override VocabularyRowRule VocabularyRows => VocabularyRowRule.CommonRows;
    public override string Description => "spherical interpolation of two task vectors, weighted, over the tensor, its rows or its columns";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("weight", null, ParameterScope.PerModel, "the model's weight: t = w₂ / (w₁ + w₂)"),
        MethodParameter.Boolean("nuslerp_row_wise", false, "interpolate each column (mergekit's dim 0) instead of each row"),
        MethodParameter.Boolean("nuslerp_flatten", true, "interpolate the whole tensor as one vector"),
    ];

    public override int? ModelCount => 2;
    public override bool BaseOptional => true;

    public override int StatisticCount(MethodInputs inputs) => 3 * Groups(inputs);

    private static (long Rows, long Columns) Matrix(MethodInputs inputs)
    {
        long columns = inputs.Base.Shape.Length == 0 ? 1 : inputs.Base.Shape[^1];
        return (columns == 0 ? 0 : inputs.Base.ElementCount / columns, columns);
    }

    private static bool Flat(MethodInputs inputs) => inputs.Parameters.Boolean("nuslerp_flatten") || inputs.Base.Shape.Length < 2;

    private static int Groups(MethodInputs inputs)
    {
        if (Flat(inputs)) return 1;
        var (rows, columns) = Matrix(inputs);
        return checked((int)(inputs.Parameters.Boolean("nuslerp_row_wise") ? columns : rows));
    }

    /// <summary>How elements fall into groups: with <c>Columns</c> 0 all in one (flattened); else per row, or per column with <c>ByColumn</c>.</summary>
    private static (long Columns, bool ByColumn) Grouping(MethodInputs inputs) =>
        Flat(inputs) ? (0, false) : (Matrix(inputs).Columns, inputs.Parameters.Boolean("nuslerp_row_wise"));

    private static int GroupOf(long element, (long Columns, bool ByColumn) grouping) =>
        grouping.Columns == 0 ? 0 : (int)(grouping.ByColumn ? element % grouping.Columns : element / grouping.Columns);

    public override void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs)
    {
        var d1 = chunk.Vector(0);
        var d2 = chunk.Vector(1);
        var grouping = Grouping(inputs);
        if (grouping.Columns == 0)
        {
            // One group: the chunk's sums in lanes (LaneSums), added to the totals chunk by chunk.
            var (aa, bb, ab) = LaneSums.Products<LaneSums.AsGiven>(d1, d2);
            sums[0] += aa;
            sums[1] += bb;
            sums[2] += ab;
            return;
        }
        for (int i = 0; i < d1.Length; i++)
        {
            int g = 3 * GroupOf(chunk.FirstElement + i, grouping);
            sums[g] += (double)d1[i] * d1[i];
            sums[g + 1] += (double)d2[i] * d2[i];
            sums[g + 2] += (double)d1[i] * d2[i];
        }
    }

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        double w1 = inputs.Vectors[0].Parameters.Number("weight"), w2 = inputs.Vectors[1].Parameters.Number("weight");
        double t = Math.Abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
        var x0 = chunk.Base;
        var d1 = chunk.Vector(0);
        var d2 = chunk.Vector(1);
        var grouping = Grouping(inputs);
        if (grouping.Columns == 0)
        {
            var (a, b, divisor) = Weights(statistics[0], statistics[1], statistics[2], t);
            MethodKernels.AddBlend(x0, d1, a, d2, b, divisor, output[..chunk.Length]);
            return;
        }
        int group = -1;
        (float A, float B, float Divisor) weights = default;
        for (int i = 0; i < x0.Length; i++)
        {
            int g = GroupOf(chunk.FirstElement + i, grouping);
            if (g != group) (group, weights) = (g, Weights(statistics[3 * g], statistics[3 * g + 1], statistics[3 * g + 2], t));
            output[i] = x0[i] + (weights.A * d1[i] + weights.B * d2[i]) / weights.Divisor;
        }
    }

    /// <summary>The interpolation as (a·δ₁ + b·δ₂) / divisor for one group.</summary>
    public static (float A, float B, float Divisor) Weights(double squared1, double squared2, double dot, double t)
    {
        double cosine = dot / Math.Max(Math.Sqrt(squared1), 1e-7) / Math.Max(Math.Sqrt(squared2), 1e-7);
        double theta = PortableTrigonometry.Acos(Math.Clamp(cosine, -1, 1)), sinTheta = PortableTrigonometry.Sin(theta);
        return Math.Abs(sinTheta) < 1e-8
            ? ((float)(1 - t), (float)t, 1f)
            : ((float)PortableTrigonometry.Sin((1 - t) * theta), (float)PortableTrigonometry.Sin(t * theta), (float)sinTheta);
    }
}
