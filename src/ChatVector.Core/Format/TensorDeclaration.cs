namespace ChatVector.Core.Format;

/// <summary>What a writer needs to know of a tensor before its bytes exist: name, dtype, shape (no offsets yet).</summary>
public sealed record TensorDeclaration(string Name, DType DType, long[] Shape)
{
    public long ElementCount => TensorShape.ElementCount(Shape);
    public long ByteLength => DType.ByteSize(ElementCount) ?? throw new OverflowException($"{Name}: byte size overflows");
}
