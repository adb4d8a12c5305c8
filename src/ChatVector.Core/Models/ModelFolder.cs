using ChatVector.Core.Format;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Models;

/// <summary>
/// A Hugging Face model folder (index + shards, one model.safetensors, shards without an index)
/// or a single safetensors file, seen as one set of named tensors. Opening reads headers only.
/// </summary>
public sealed class ModelFolder
{
    /// <summary>Opens <paramref name="path"/> (a folder or a .safetensors file). Throws <see cref="SafeTensorException"/>.</summary>
    public static ModelFolder Open(string path) => throw new NotImplementedException();

    /// <summary>The folder or file as given, full path.</summary>
    public string Path { get; } = "";
    /// <summary>The folder holding config and tokenizer files; for a single file, its directory.</summary>
    public string Directory { get; } = "";
    /// <summary>True when opened from a folder (side files belong to it).</summary>
    public bool IsFolder { get; }
    /// <summary>Every tensor: index order when there is an index, else file by file in data order.</summary>
    public IReadOnlyList<StoredTensor> Tensors { get; } = [];
    public IReadOnlyList<SafeTensorFile> Files { get; } = [];

    public StoredTensor? Find(string name) => throw new NotImplementedException();

    /// <summary>A JSON side file (config.json, tokenizer_config.json...) of the folder, or null when absent.</summary>
    public JObject? ReadJson(string fileName) => throw new NotImplementedException();

    /// <summary>Files of the folder that are not weights or the index (config, tokenizer, generation config...), full paths.</summary>
    public IReadOnlyList<string> SideFiles { get; } = [];

    /// <summary><c>tie_word_embeddings</c> from config.json (false when absent).</summary>
    public bool TiedEmbeddings => throw new NotImplementedException();
}
