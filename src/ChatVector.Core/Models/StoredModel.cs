using ChatVector.Core.Format;

namespace ChatVector.Core.Models;

/// <summary>
/// A model as it is stored: a Hugging Face model folder (index + shards, one model.safetensors, shards
/// without an index) or a single safetensors file, seen as one set of named <see cref="StoredTensor"/>s.
/// Opening reads headers only.
/// </summary>
/// <remarks>
/// One type, not a folder type and a file type: every consumer (pairing, merging, measuring, listing) wants
/// the same thing from either, named tensors plus the side files when there is a folder (<see cref="IsFolder"/>).
/// Hence the name says "stored", not "folder".
/// </remarks>
public sealed class StoredModel
{
    private static readonly string[] PickleExtensions = [".bin", ".pt", ".pth", ".ckpt", ".pkl"];
    private readonly Dictionary<string, StoredTensor> _byName;

    private StoredModel(string path, string directory, bool isFolder, IReadOnlyList<SafeTensorFile> files, IReadOnlyList<StoredTensor> tensors, ModelSideFiles? sideFiles)
    {
        Path = path;
        Directory = directory;
        IsFolder = isFolder;
        Files = files;
        Tensors = tensors;
        SideFiles = sideFiles;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Opens <paramref name="path"/> (a folder or a .safetensors file). Throws <see cref="SafeTensorException"/> for a files rules and <see cref="ModelFolderException"/> for the folders.</summary>
    public static StoredModel Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        if (File.Exists(path))
        {
            var file = SafeTensorFile.Open(path);
            return new StoredModel(path, System.IO.Path.GetDirectoryName(path)!, false, [file], file.Tensors.Select(t => new StoredTensor(file, t)).ToList(), null);
        }
        if (!System.IO.Directory.Exists(path)) throw new SafeTensorException(SafeTensorRule.FileNotFound, path, "no such file or folder");
        var entries = System.IO.Directory.GetFiles(path).Order(StringComparer.Ordinal).ToList();
        var shards = entries.Where(IsSafeTensors).ToList();
        var indexPath = System.IO.Path.Combine(path, ModelIndex.FileName);
        // transformers loads model.safetensors when a folder has it, whatever an index says; reading the index instead
        // would be another model than the one the folder serves.
        // (An index that maps every tensor to model.safetensors describes that file: no conflict.)
        var fileNames = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var index = File.Exists(indexPath) ? ModelIndex.Read(indexPath) : null;
        if (index is not null && shards.Any(s => string.Equals(System.IO.Path.GetFileName(s), SingleFileName, fileNames))
            && index.WeightMap.Values.Any(shard => !string.Equals(shard, SingleFileName, fileNames)))
            throw new ModelFolderException(ModelFolderRule.IndexInvalid, indexPath,
                $"the folder holds both {SingleFileName} and {ModelIndex.FileName}, which lists other shards: transformers would load {SingleFileName}, ChatVector the shards the index lists; remove the one that is stale");
        var (files, tensors) = index is not null ? OpenIndexed(path, indexPath, index) : OpenUnindexed(path, shards, entries);
        var sideFiles = entries.Where(e => !IsSafeTensors(e) && !IsPickle(e) && !IsIndex(e) && !System.IO.Path.GetFileName(e).StartsWith('.')).ToList();
        return new StoredModel(path, path, true, files, tensors, new ModelSideFiles(path, sideFiles));
    }

    /// <summary>The safetensors weight files of a folder as the loader sees them (hidden staging files excluded), sorted.</summary>
    public static IReadOnlyList<string> WeightFiles(string folder) =>
        System.IO.Directory.GetFiles(folder).Where(IsSafeTensors).Order(StringComparer.Ordinal).ToList();

    /// <summary>The file of a model saved unsharded, which transformers prefers to an index.</summary>
    private const string SingleFileName = "model.safetensors";

    private static bool IsSafeTensors(string file) => file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && !System.IO.Path.GetFileName(file).StartsWith('.');

    /// <summary>Case-insensitive, as Windows compares names: a Model.safetensors.index.json copied as a side
    /// file would there replace the index the export writes.</summary>
    private static bool IsIndex(string file) => string.Equals(System.IO.Path.GetFileName(file), ModelIndex.FileName, StringComparison.OrdinalIgnoreCase);

    private static bool IsPickle(string file) => PickleExtensions.Contains(System.IO.Path.GetExtension(file), StringComparer.OrdinalIgnoreCase);

    private static (List<SafeTensorFile>, List<StoredTensor>) OpenIndexed(string folder, string indexPath, ModelIndex index)
    {
        var files = new Dictionary<string, SafeTensorFile>(StringComparer.Ordinal);
        foreach (var shard in index.WeightMap.Values.Distinct())
        {
            var shardPath = System.IO.Path.Combine(folder, shard);
            if (!File.Exists(shardPath))
                throw new ModelFolderException(ModelFolderRule.IndexMissingShard, indexPath, $"the index names shard '{shard}', which is not in the folder");
            files[shard] = SafeTensorFile.Open(shardPath);
        }
        foreach (var (shard, file) in files)
            foreach (var tensor in file.Tensors)
            {
                if (!index.WeightMap.TryGetValue(tensor.Name, out var listed))
                    throw new ModelFolderException(ModelFolderRule.IndexInvalid, indexPath, $"shard '{shard}' holds a tensor the index does not list", tensor.Name);
                if (listed != shard)
                    throw new ModelFolderException(ModelFolderRule.TensorInTwoShards, indexPath, $"the tensor is in shards '{listed}' and '{shard}'", tensor.Name);
            }
        var tensors = new List<StoredTensor>(index.Order.Count);
        foreach (var name in index.Order)
        {
            var file = files[index.WeightMap[name]];
            var info = file.Find(name) ?? throw new ModelFolderException(ModelFolderRule.IndexTensorMissing, indexPath, $"the index puts the tensor in '{index.WeightMap[name]}', which does not hold it", name);
            tensors.Add(new StoredTensor(file, info));
        }
        return (files.Values.ToList(), tensors);
    }

    private static (List<SafeTensorFile>, List<StoredTensor>) OpenUnindexed(string folder, List<string> shards, List<string> entries)
    {
        if (shards.Count == 0)
        {
            var pickles = entries.Where(IsPickle).Select(System.IO.Path.GetFileName).ToList();
            if (pickles.Count > 0)
                throw new ModelFolderException(ModelFolderRule.PickleWeightsRefused, folder,
                    $"the weights are pickle files ({string.Join(", ", pickles)}); loading pickle can run arbitrary code, so ChatVector reads only safetensors. " +
                    "Convert them once in a trusted environment, e.g. in Python: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)");
            throw new ModelFolderException(ModelFolderRule.NoWeights, folder, "the folder holds no .safetensors weights");
        }
        var files = shards.Select(SafeTensorFile.Open).ToList();
        var seen = new Dictionary<string, SafeTensorFile>(StringComparer.Ordinal);
        var tensors = new List<StoredTensor>();
        foreach (var file in files)
            foreach (var tensor in file.Tensors)
            {
                if (seen.TryGetValue(tensor.Name, out var first))
                    throw new ModelFolderException(ModelFolderRule.TensorInTwoShards, folder, $"the tensor is in '{System.IO.Path.GetFileName(first.Path)}' and '{System.IO.Path.GetFileName(file.Path)}'", tensor.Name);
                seen[tensor.Name] = file;
                tensors.Add(new StoredTensor(file, tensor));
            }
        return (files, tensors);
    }

    /// <summary>The folder or file as given, full path.</summary>
    public string Path { get; }
    /// <summary>The folder holding config and tokenizer files; for a single file, its directory.</summary>
    public string Directory { get; }
    /// <summary>True when opened from a folder (side files belong to it).</summary>
    public bool IsFolder { get; }
    /// <summary>Every tensor: index order when there is an index, else file by file in data order.</summary>
    public IReadOnlyList<StoredTensor> Tensors { get; }
    public IReadOnlyList<SafeTensorFile> Files { get; }

    public StoredTensor? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// The folder's side files (config, tokenizer, generation config...), each JSON one read and checked once; null for
    /// a single file, which has none (a merge or copy of it takes nothing from beside it).
    /// </summary>
    public ModelSideFiles? SideFiles { get; }

    /// <summary><c>tie_word_embeddings</c> from the folder's config.json (false when absent, and for a single file).</summary>
    public bool TiedEmbeddings => SideFiles?.TiedEmbeddings ?? false;
}
