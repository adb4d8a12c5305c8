using System.Numerics;
namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>ram</c> (Reinforced Agent Merging): per element, a task vector counts where |δᵢ| &gt; ε; where one model
/// changed the element its δ is taken whole, where several did their δ are averaged over them, and elsewhere the base
/// stays. <c>ramplus_tl</c> (<see cref="RamPlusMethod"/>) also scales each model's unique elements. No statistics.
/// </summary>
public sealed class RamMethod : ElementwiseMethod
{
    public override string Name => "ram";
    public override string Description => "each task vector where it alone changed an element, their average where several did";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
        [MethodParameter.Number("epsilon", 1e-5, ParameterScope.Merge, "changes this small or smaller count as none", 0)];

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output) =>
        RamRule.Merge(chunk, (float)inputs.Parameters.Number("epsilon"), null, output);
}

/// <summary>
/// mergekit's <c>ramplus_tl</c>: <see cref="RamMethod"/>'s merge, with each model's unique elements multiplied by
/// λᵢ = 1 + r·clamp(ρᵢ, 0, α), where ρᵢ is the model's count of shared changed elements over its count of unique ones
/// (at least ε): per tensor, from one statistics pass.
/// </summary>
public sealed class RamPlusMethod : ElementwiseMethod
{
    public override string Name => "ramplus_tl";
    public override string Description => "ram, with each model's unique changes scaled up by how much it shares";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("r", 0.1, ParameterScope.Merge, "how much sharing raises a model's unique changes"),
        MethodParameter.Number("alpha", 0.2, ParameterScope.Merge, "the most the sharing ratio counts for", 0),
        MethodParameter.Number("epsilon", 1e-5, ParameterScope.Merge, "changes this small or smaller count as none", 0),
    ];

    /// <summary>Per model: its changed elements that others changed too, then those it alone changed.</summary>
    public override int StatisticCount(MethodInputs inputs) => 2 * inputs.Vectors.Count;

    public override void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs)
    {
        float epsilon = (float)inputs.Parameters.Number("epsilon");
        for (int e = 0; e < chunk.Length; e++)
        {
            int count = RamRule.Changed(chunk, e, epsilon);
            for (int i = 0; i < chunk.VectorCount; i++)
                if (MathF.Abs(chunk.Vector(i)[e]) > epsilon) sums[2 * i + (count > 1 ? 0 : 1)]++;
        }
    }

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        double epsilon = inputs.Parameters.Number("epsilon"), r = inputs.Parameters.Number("r"), alpha = inputs.Parameters.Number("alpha");
        var lambdas = new float[chunk.VectorCount];
        for (int i = 0; i < lambdas.Length; i++)
            lambdas[i] = (float)(1 + r * Math.Clamp(statistics[2 * i] / Math.Max(statistics[2 * i + 1], epsilon), 0, alpha));
        RamRule.Merge(chunk, (float)epsilon, lambdas, output);
    }
}

/// <summary>The element rule both RAM methods share, in float32.</summary>
internal static class RamRule
{
    /// <summary>How many task vectors changed element <paramref name="e"/> by more than ε.</summary>
    public static int Changed(ChunkValues chunk, int e, float epsilon)
    {
        int count = 0;
        for (int i = 0; i < chunk.VectorCount; i++) if (MathF.Abs(chunk.Vector(i)[e]) > epsilon) count++;
        return count;
    }

    /// <param name="uniqueScales">Each model's scale of the elements it alone changed (ramplus_tl), or null for 1.</param>
    [System.Runtime.CompilerServices.MethodImpl(Kernels.HotLoop.Options)]
    public static void Merge(ChunkValues chunk, float epsilon, float[]? uniqueScales, Span<float> output)
    {
        int e = 0;
        if (Vector.IsHardwareAccelerated && chunk.VectorCount > 0)
        {
            // A SIMD vector of elements at a time, each lane the scalar rule's float32 operations in the same order
            // (no fused multiply-add): the element loop below was two thirds of a ram merge's CPU.
            var eps = new Vector<float>(epsilon);
            var one = Vector<float>.One;
            var bases = chunk.Base;
            for (; e <= chunk.Length - Vector<float>.Count; e += Vector<float>.Count)
            {
                var count = Vector<float>.Zero;
                for (int i = 0; i < chunk.VectorCount; i++)
                    count += Vector.ConditionalSelect(Vector.GreaterThan(Vector.Abs(new Vector<float>(chunk.Vector(i)[e..])), eps), one, Vector<float>.Zero);
                var unique = Vector.ConditionalSelect(Vector.Equals(count, one), one, Vector<float>.Zero);
                var overlap = Vector.ConditionalSelect(Vector.GreaterThan(count, one), one, Vector<float>.Zero);
                var divisor = Vector.Max(count, one);
                var merged = Vector<float>.Zero;
                for (int i = 0; i < chunk.VectorCount; i++)
                {
                    var delta = new Vector<float>(chunk.Vector(i)[e..]);
                    var kept = Vector.ConditionalSelect(Vector.GreaterThan(Vector.Abs(delta), eps), delta, Vector<float>.Zero);
                    var alone = kept * unique;
                    if (uniqueScales is not null) alone *= new Vector<float>(uniqueScales[i]);
                    merged += alone + kept * overlap / divisor;
                }
                (new Vector<float>(bases[e..]) + merged).CopyTo(output[e..]);
            }
        }
        for (; e < chunk.Length; e++) output[e] = MergeElement(chunk, e, epsilon, uniqueScales);
    }

    /// <summary>The rule for element <paramref name="e"/>: the changes of the models that alone changed it, plus the mean of the changes where several did.</summary>
    private static float MergeElement(ChunkValues chunk, int e, float epsilon, float[]? uniqueScales)
    {
        int count = Changed(chunk, e, epsilon);
        float unique = count == 1 ? 1f : 0f, overlap = count > 1 ? 1f : 0f, divisor = Math.Max(count, 1);
        float merged = 0f;
        for (int i = 0; i < chunk.VectorCount; i++)
        {
            float delta = chunk.Vector(i)[e];
            float kept = MathF.Abs(delta) > epsilon ? delta : 0f;
            float alone = kept * unique;
            if (uniqueScales is not null) alone *= uniqueScales[i];
            merged += alone + kept * overlap / divisor;
        }
        return chunk.Base[e] + merged;
    }
}
