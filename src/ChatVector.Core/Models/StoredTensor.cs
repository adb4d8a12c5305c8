using ChatVector.Core.Format;

namespace ChatVector.Core.Models;

/// <summary>A tensor as it lies in a file of a model: metadata only until its bytes are read.</summary>
public sealed record StoredTensor(SafeTensorFile File, TensorInfo Info)
{
    public string Name => Info.Name;
}
