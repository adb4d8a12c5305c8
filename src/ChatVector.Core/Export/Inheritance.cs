using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;

namespace ChatVector.Core.Export;

/// <summary>
/// What an output made from one producer's tensors inherits: the carried metadata (see
/// <see cref="CarriedMetadata"/>), the side files a model folder needs, and a vector's provenance.
/// One instance is shared by all tensors a producer emits; <see cref="OutputExtras"/> combines them.
/// </summary>
public sealed class Inheritance
{
    public static readonly Inheritance None = new(new Dictionary<string, string>(), null, null);

    private Inheritance(IReadOnlyDictionary<string, string> metadata, OutputSideFiles? sideFiles, VectorProvenance? provenance)
    {
        Metadata = metadata;
        SideFiles = sideFiles;
        Provenance = provenance;
    }

    /// <summary>Entries for every written file's __metadata__ (carried keys only).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Side files for a model folder target (config, tokenizer, model card), when known.</summary>
    public OutputSideFiles? SideFiles { get; }
    /// <summary>For vectors: the models they came from.</summary>
    public VectorProvenance? Provenance { get; }

    /// <summary>One context per file of an opened model: its carried metadata, the folder's side files (shared, so they agree).</summary>
    public static IReadOnlyDictionary<SafeTensorFile, Inheritance> ForModel(StoredModel model)
    {
        var sideFiles = model.IsFolder ? new OutputSideFiles(model) : null;
        return model.Files.ToDictionary(
            file => file,
            file => new Inheritance(CarriedMetadata.From(file.Metadata), sideFiles, VectorProvenance.FromMetadata(file.Metadata)));
    }

    /// <summary>A live vector: its provenance, saved as metadata; a vector has no side files.</summary>
    public static Inheritance ForVector(VectorProvenance provenance) => new(provenance.ToMetadata(), null, provenance);

    /// <summary>A merge: the recipe in every shard, the model's side files with the chat template, dtype and the model card.</summary>
    public static Inheritance ForMerge(MergePlan plan, StoredModel model)
    {
        var recipe = plan.Recipe;
        var torchDType = recipe.OutputDType is { } dtype ? OutputSideFiles.TorchDTypeName(dtype) : null;
        return new Inheritance(
            new Dictionary<string, string> { [MergeRecipe.MetadataKey] = recipe.ToJson() },
            new OutputSideFiles(model, recipe.TemplateOrigin, recipe.ToModelCard(), torchDType),
            null);
    }

    /// <summary>
    /// A mergekit config's merge: the config as run in every shard's metadata and as <c>mergekit_config.yml</c>, the base
    /// model's side files, config.json's torch_dtype when the config names one, and a model card that records the config.
    /// </summary>
    public static Inheritance ForConfig(Config.ConfigPlan plan)
    {
        var config = plan.Config;
        var card = Config.ConfigCard.Write(plan);
        var dtype = config.OutDType ?? config.DType;
        var written = new Dictionary<string, string> { [Config.ConfigCard.FileName] = config.Text };
        var numbers = new Dictionary<string, long>();
        if (plan.LayerCount is { } layers) numbers["num_hidden_layers"] = layers;
        if (plan.VocabSize is { } cutRows) numbers["vocab_size"] = cutRows; // embeddings cut to the rows every model has
        Dictionary<string, string?>? replaced = null;
        if (plan.Tokenizer is { } tokenizer)
        {
            // The tokenizer source's files replace the base's (the base's that the source lacks are left out), and the
            // files rewritten for the output vocabulary replace both; config.json gets the vocabulary's size.
            foreach (var (name, text) in tokenizer.Written) written[name] = text;
            numbers["vocab_size"] = tokenizer.VocabSize;
            if (!SameFolder(tokenizer.SourceFolder, plan.Base.Directory))
            {
                replaced = Config.OutputTokenizer.FileNames.ToDictionary(name => name,
                    name => File.Exists(Path.Combine(tokenizer.SourceFolder, name)) ? Path.Combine(tokenizer.SourceFolder, name) : null, StringComparer.Ordinal);
            }
        }
        return new Inheritance(
            new Dictionary<string, string> { [Config.ConfigCard.MetadataKey] = config.Text },
            new OutputSideFiles(plan.Base,
                plan.ChatTemplateJson is { } template ? new VectorProvenance(plan.Base.Path, plan.Config.SourcePath, template, null) : null,
                card, dtype is { } d ? OutputSideFiles.TorchDTypeName(d) : null,
                written, numbers.Count > 0 ? numbers : null, replaced),
            null);
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
