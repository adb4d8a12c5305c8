namespace ChatVector.Core.Format;

/// <summary>One tensor entry of a safetensors header: where its bytes lie relative to the data section.</summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;

    public long ElementCount => TensorShape.ElementCount(Shape);
}
