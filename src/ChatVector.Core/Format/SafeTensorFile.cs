namespace ChatVector.Core.Format;

/// <summary>
/// An opened, validated safetensors file: header parsed, data read on demand (ranged reads,
/// never the whole file, never memory-mapped so reads do not count against resident memory).
/// </summary>
public sealed class SafeTensorFile
{
    /// <summary>Reads and validates the header against the file's length. Throws <see cref="SafeTensorException"/>.</summary>
    public static SafeTensorFile Open(string path) => throw new NotImplementedException();

    public string Path { get; } = "";
    public long FileLength { get; }
    /// <summary>Offset of the data section: 8 + header length.</summary>
    public long DataStart { get; }
    /// <summary>Tensors in data (offset) order.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; } = [];
    /// <summary>The header's <c>__metadata__</c>, empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    public TensorInfo? Find(string name) => throw new NotImplementedException();

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes of <paramref name="tensor"/> starting
    /// <paramref name="offsetInTensor"/> bytes into it. Opens the file shared for reading (never a
    /// write lock) and throws <see cref="SafeTensorRule.FileChanged"/> when the file's length or
    /// write time differ from when it was opened, or when it is shorter than expected.
    /// </summary>
    public void ReadTensorBytes(TensorInfo tensor, long offsetInTensor, Span<byte> destination) => throw new NotImplementedException();
}
