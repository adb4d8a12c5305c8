using ChatVector.Core.Tensors;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>passthrough</c>: one model's tensors as they are, or multiplied by <c>scale</c>. A config names the model
/// as its one model (or its base). Unscaled tensors of the output's dtype pass through byte for byte.
/// </summary>
public sealed class PassthroughMethod : ElementwiseMethod
{
    public override string Name => "passthrough";
    public override string Description => "one model's tensors, as they are or scaled";
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
        [MethodParameter.Number("scale", 1.0, ParameterScope.Merge, "what the tensors are multiplied by")];

    public override int? ModelCount => 0;
    public override int MinimumModelCount => 0;

    public override ITensorSource Merge(MethodInputs inputs) =>
        inputs.Parameters.Number("scale") == 1.0 && inputs.OutputDType == inputs.Base.DType ? inputs.Base : base.Merge(inputs);

    public override void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output)
    {
        float scale = (float)inputs.Parameters.Number("scale");
        for (int i = 0; i < chunk.Length; i++) output[i] = chunk.Base[i] * scale;
    }
}
