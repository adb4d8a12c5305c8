using ChatVector.Core.Methods;

namespace ChatVector.Core.Tests.Methods;

/// <summary>
/// A method added as a user of the method layer adds one: this file, and one line registering it
/// (<see cref="MethodLayerTests.A_new_method_is_one_file_and_one_registry_line"/>). base + Σ wᵢ·δᵢ·(‖δ₁‖ / ‖δᵢ‖): each
/// vector scaled to the first one's norm, which needs whole-tensor statistics (the squared norms) before the first chunk.
/// </summary>
public sealed class NormMatchedSumMethod : ElementwiseMethod
{
    public override string Name => "norm_matched_sum";
    public override string Description => "each vector scaled to the first one's norm, weighted and summed onto the base";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
        [MethodParameter.Number("weight", 1.0, ParameterScope.PerModel, "the vector's weight")];

    public override int StatisticCount(MethodInputs inputs) => inputs.Vectors.Count; // each vector's squared norm

    public override void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs)
    {
        for (int v = 0; v < chunk.VectorCount; v++)
            foreach (var x in chunk.Vector(v)) sums[v] += (double)x * x;
    }

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        var scale = new float[chunk.VectorCount];
        for (int v = 0; v < chunk.VectorCount; v++)
            scale[v] = statistics[v] == 0 ? 0f : (float)(inputs.Vectors[v].Parameters.Number("weight") * Math.Sqrt(statistics[0] / statistics[v]));
        for (int i = 0; i < chunk.Length; i++)
        {
            float sum = chunk.Base[i];
            for (int v = 0; v < chunk.VectorCount; v++) sum += scale[v] * chunk.Vector(v)[i];
            output[i] = sum;
        }
    }
}
