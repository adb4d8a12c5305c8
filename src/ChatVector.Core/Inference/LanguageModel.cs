using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tokenization;

namespace ChatVector.Core.Inference;

/// <summary>
/// A model ready for inference: its config (checked first, so an unsupported model fails before any
/// weight is read), its weights (a folder's, or a merge's computed tensors) and, on first use, its tokenizer.
/// The side files (config, tokenizer, generation config, chat template) come from <see cref="SideFiles"/>.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private TokenizerFile? _tokenizer;

    private LanguageModel(string name, ModelSideFiles sideFiles, ModelWeights weights)
    {
        Runtime.NativeMemoryTuning.ReturnLargeBlocksAtOnce();
        Name = name;
        SideFiles = sideFiles;
        Forward = new LlamaForward(weights);
    }

    /// <summary>A model folder (or single safetensors file with its config beside it).</summary>
    public static LanguageModel Open(StoredModel model, ComputeContext context, bool keepLoaded = false)
    {
        var sideFiles = ModelSideFiles.ForInference(model);
        var config = LlamaConfig.Read(sideFiles);
        return new LanguageModel(model.Path, sideFiles, ModelWeights.ForFolder(model, config, context, keepLoaded));
    }

    /// <summary>Computed tensors (a merge on the pipeline), with the side files of <paramref name="sideFilesFrom"/> (the merge's target).</summary>
    public static LanguageModel FromTensors(string name, StoredModel sideFilesFrom, IEnumerable<ITensorSource> tensors, ComputeContext context) =>
        FromTensors(name, ModelSideFiles.ForInference(sideFilesFrom), tensors, context);

    /// <summary>
    /// Computed tensors with the side files in <paramref name="sideFilesFolder"/> (those an export of them would write:
    /// config.json with its changed numbers, a mapped vocabulary's tokenizer), the folder deleted with the model when
    /// <paramref name="ownsFolder"/>.
    /// </summary>
    public static LanguageModel FromTensors(string name, string sideFilesFolder, bool ownsFolder, IEnumerable<ITensorSource> tensors, ComputeContext context)
    {
        var model = FromTensors(name, new ModelSideFiles(sideFilesFolder, System.IO.Directory.GetFiles(sideFilesFolder).Order(StringComparer.Ordinal).ToList()), tensors, context);
        if (ownsFolder) model._temporaryFolder = sideFilesFolder;
        return model;
    }

    private static LanguageModel FromTensors(string name, ModelSideFiles sideFiles, IEnumerable<ITensorSource> tensors, ComputeContext context)
    {
        var config = LlamaConfig.Read(sideFiles);
        var byName = new Dictionary<string, ITensorSource>(StringComparer.Ordinal);
        foreach (var tensor in tensors) byName.TryAdd(tensor.Name, tensor);
        return new LanguageModel(name, sideFiles, new ModelWeights(config, byName.GetValueOrDefault, context, name));
    }

    /// <summary>The folder of side files written for this model alone, deleted with it.</summary>
    private string? _temporaryFolder;

    public string Name { get; }
    /// <summary>The folder the side files (and tokenizer.json) are in.</summary>
    public string Directory => SideFiles.Directory;
    /// <summary>config.json, generation_config.json and tokenizer_config.json, each read and checked once.</summary>
    public ModelSideFiles SideFiles { get; }
    public LlamaForward Forward { get; }
    public LlamaConfig Config => Forward.Config;

    /// <summary>The folder's tokenizer.json; it is read, and the tokenizers library loaded, on first use.</summary>
    public TokenizerFile Tokenizer => _tokenizer ??= TokenizerFile.Open(Directory);

    public PerplexityResult Measure(IReadOnlyList<long> ids, int? contextLength = null) =>
        InferenceThreads.Run(Config, Forward.Weights.Context, () => Perplexity.Measure(Forward, ids, contextLength));

    /// <summary>The ids generation stops at (generation_config.json, else config.json), read once.</summary>
    public IReadOnlySet<long> EosIds => _eosIds ??= SideFiles.EosIds;

    private IReadOnlySet<long>? _eosIds;

    public IReadOnlyList<long> Generate(IReadOnlyList<long> prompt, int maxNewTokens, int? contextLength = null, Action<int>? onToken = null) =>
        InferenceThreads.Run(Config, Forward.Weights.Context, () => GreedyGenerator.Generate(Forward, prompt, maxNewTokens, EosIds, contextLength, onToken));

    public void Dispose()
    {
        _tokenizer?.Dispose();
        Forward.Weights.Dispose();
        if (_temporaryFolder is { } folder && System.IO.Directory.Exists(folder)) System.IO.Directory.Delete(folder, recursive: true);
    }
}
