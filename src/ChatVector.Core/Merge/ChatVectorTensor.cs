using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Merge;

/// <summary>One tensor of a chat vector, <c>chat - base</c>, computed in float32 (float64 for F64 inputs), never rounded further.</summary>
public sealed class ChatVectorTensor : ComputedTensorSource, IFloat32Source
{
    public ChatVectorTensor(ITensorSource chat, ITensorSource @base, VectorProvenance provenance)
        : base(chat.Name, TorchTypes.AccumulatorFor([chat.DType, @base.DType]), chat.Shape)
    {
        Chat = chat;
        Base = @base;
        Provenance = provenance;
    }

    public ITensorSource Chat { get; }
    public ITensorSource Base { get; }
    public VectorProvenance Provenance { get; }

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        var accumulator = TorchTypes.ToScalarType(DType, Name);
        var chat = Chat.ReadChunk(firstElement, count, context).to(accumulator);
        // Converted explicitly: an in-place op with a bf16 operand (widened inside the kernel) measured
        // slower and with far higher peak RSS in the benchmark.
        var @base = Base.ReadChunk(firstElement, count, context).to(accumulator);
        return chat.sub_(@base);
    }

    /// <summary>Float32 vectors of stored BF16/F32 tensors: chat − base computed in place (IEEE float32, as libtorch's sub_).</summary>
    public bool CanReadFloat32 => DType == Format.DType.F32 && Float32Reads.Direct(Chat) && Float32Reads.Direct(Base);

    public void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, destination.Length);
        context.Cancellation.ThrowIfCancellationRequested();
        ((IFloat32Source)Chat).ReadFloat32(firstElement, destination, context);
        var scratch = ScratchArrays<float>.Rent(destination.Length);
        try
        {
            var @base = scratch.AsSpan(0, destination.Length);
            ((IFloat32Source)Base).ReadFloat32(firstElement, @base, context);
            Float32Conversion.Subtract(destination, @base);
        }
        finally
        {
            ScratchArrays<float>.Return(scratch);
        }
    }
}
