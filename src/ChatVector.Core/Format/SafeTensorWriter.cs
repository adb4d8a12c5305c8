namespace ChatVector.Core.Format;

/// <summary>What a writer needs to know of a tensor before its bytes exist.</summary>
public sealed record TensorLayout(string Name, DType DType, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (count, dim) => checked(count * dim));
    public long ByteLength => DType.ByteSize(ElementCount) ?? throw new OverflowException($"{Name}: byte size overflows");
}

/// <summary>A file's header bytes and the order and offsets its tensors' data must be written in.</summary>
public sealed record PreparedFile(byte[] HeaderWithLength, IReadOnlyList<TensorInfo> Layout, long TotalLength);

/// <summary>Writes one safetensors file, data streamed by the caller one tensor at a time.</summary>
public static class SafeTensorWriter
{
    /// <summary>
    /// Orders tensors by dtype alignment (largest first) then name, assigns contiguous offsets,
    /// and builds the 8-byte length plus JSON header padded with spaces to a multiple of 8.
    /// <c>__metadata__</c> always holds <c>format: pt</c> plus <paramref name="metadata"/>.
    /// </summary>
    public static PreparedFile Prepare(IEnumerable<TensorLayout> tensors, IReadOnlyDictionary<string, string>? metadata) =>
        throw new NotImplementedException();

    /// <summary>
    /// Writes <paramref name="path"/> through a temporary file beside it that is renamed at the end
    /// (deleted on any failure or cancellation). <paramref name="writeData"/> is called once per tensor
    /// in layout order and must write exactly <see cref="TensorInfo.ByteLength"/> bytes.
    /// An existing file is an error unless <paramref name="overwrite"/>.
    /// </summary>
    public static void Write(string path, PreparedFile prepared, Action<TensorInfo, Stream> writeData, bool overwrite, CancellationToken cancellation) =>
        throw new NotImplementedException();
}
