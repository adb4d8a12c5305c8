using ChatVector.Core.Format;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>
/// A lazy tensor: its name, type and shape are known at once; its values are produced on demand,
/// a range of elements at a time, so no consumer ever needs the whole tensor (or model) in memory.
/// </summary>
public interface ITensorSource
{
    string Name { get; }
    DType DType { get; }
    long[] Shape { get; }
    long ElementCount { get; }
    long ByteLength { get; }

    /// <summary>
    /// Elements [<paramref name="firstElement"/>, +<paramref name="count"/>) in row-major order as a
    /// 1-D tensor of this source's dtype on the context's device. The caller owns (disposes) it.
    /// </summary>
    torch.Tensor ReadChunk(long firstElement, long count, ComputeContext context);

    /// <summary>Copies this tensor's bytes from <paramref name="byteOffset"/> into <paramref name="destination"/> (CPU memory).</summary>
    void CopyBytes(long byteOffset, Span<byte> destination, ComputeContext context);
}
