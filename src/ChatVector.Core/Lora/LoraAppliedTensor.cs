using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Lora;

/// <summary>
/// A model tensor with a LoRA applied, <c>model + scaling·B·A</c>, in float32 (float64 for an F64 model), not rounded
/// to the model's dtype: what a <c>model+lora</c> reference of a mergekit config stands for, before its task vector is taken.
/// </summary>
public sealed class LoraAppliedTensor(ITensorSource model, LoraDeltaTensor delta)
    : ComputedTensorSource(model.Name, TorchTypes.AccumulatorFor([model.DType, delta.DType]), model.Shape)
{
    public ITensorSource Model { get; } = model;
    public LoraDeltaTensor Delta { get; } = delta;

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        var accumulator = TorchTypes.ToScalarType(DType, Name);
        var sum = Model.ReadChunk(firstElement, count, context).to(accumulator);
        using var delta = Delta.ReadChunk(firstElement, count, context).to(accumulator);
        return sum.add_(delta);
    }
}
