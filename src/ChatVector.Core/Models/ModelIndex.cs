namespace ChatVector.Core.Models;

/// <summary><c>model.safetensors.index.json</c>: total size and which shard holds each tensor.</summary>
public sealed record ModelIndex(long TotalSize, IReadOnlyDictionary<string, string> WeightMap)
{
    public const string FileName = "model.safetensors.index.json";

    /// <summary>Reads and checks the index (JSON object, weight_map of string to a plain file name inside the folder).</summary>
    public static ModelIndex Read(string path) => throw new NotImplementedException();

    /// <summary>Writes the index in transformers' layout (metadata.total_size, weight_map sorted by name).</summary>
    public void Write(string path) => throw new NotImplementedException();
}
