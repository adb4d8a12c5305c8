using ChatVector.Core.Format;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>
/// A tensor of zeros: the origin a method without a base model works from (mergekit's <c>nuslerp</c>, <c>multislerp</c>,
/// <c>linear</c>, <c>karcher</c> without <c>base_model</c>), so that base + f(models − base) is f(models) with no special case.
/// </summary>
public sealed class ZeroTensorSource(string name, DType dtype, long[] shape) : ComputedTensorSource(name, dtype, shape), IFloat32Source
{
    public bool CanReadFloat32 => true;

    public void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, destination.Length);
        destination.Clear();
    }

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context) =>
        torch.zeros(count, TorchTypes.ToScalarType(DType, Name), context.Device);
}
