using ChatVector.Core.Format;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>Base for sources whose values are computed: bytes come from computing the covering chunk.</summary>
public abstract class ComputedTensorSource : ITensorSource
{
    protected ComputedTensorSource(string name, DType dtype, long[] shape)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        ElementCount = TensorShape.ElementCount(shape);
        ByteLength = dtype.ByteSize(ElementCount) ?? throw new OverflowException($"{name}: byte size overflows");
    }

    public string Name { get; }
    public DType DType { get; }
    public long[] Shape { get; }
    public long ElementCount { get; }
    public long ByteLength { get; }

    public torch.Tensor ReadChunk(long firstElement, long count, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, count);
        context.Cancellation.ThrowIfCancellationRequested();
        return Compute(firstElement, count, context);
    }

    /// <summary>Computes elements [first, first+count) in <see cref="DType"/> on the context's device.</summary>
    protected abstract torch.Tensor Compute(long firstElement, long count, ComputeContext context);

    public void CopyBytes(long byteOffset, Span<byte> destination, ComputeContext context)
    {
        int elementSize = DType.Bits() / 8;
        if (byteOffset % elementSize != 0 || destination.Length % elementSize != 0)
            throw new ArgumentException($"byte range of '{Name}' must be aligned to its {elementSize}-byte elements");
        using var scope = torch.NewDisposeScope();
        long first = byteOffset / elementSize, count = destination.Length / elementSize;
        ChunkRange.Check(this, first, count);
        context.Cancellation.ThrowIfCancellationRequested();
        if (DirectFloat32(destination, first, context) || TryComputeBytes(first, count, destination, context)) return;
        var chunk = Compute(first, count, context);
        TorchTypes.CopyOut(chunk, destination);
    }

    /// <summary>
    /// An F32 source that computes float32 straight into memory (a chat vector, a sparsified one) writes its values
    /// into the chunk's bytes, skipping the tensor, its libtorch temporaries and the copy out: saving vectors.
    /// </summary>
    private bool DirectFloat32(Span<byte> destination, long first, ComputeContext context)
    {
        if (DType != DType.F32 || !BitConverter.IsLittleEndian || this is not IFloat32Source { CanReadFloat32: true } direct) return false;
        direct.ReadFloat32(first, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(destination), context);
        return true;
    }

    /// <summary>
    /// Writes elements [first, first+count)'s bytes straight into <paramref name="destination"/> when the source can
    /// (skipping the output tensor and its copy); false to go through <see cref="Compute"/>. Called inside a dispose scope.
    /// </summary>
    protected virtual bool TryComputeBytes(long firstElement, long count, Span<byte> destination, ComputeContext context) => false;
}
