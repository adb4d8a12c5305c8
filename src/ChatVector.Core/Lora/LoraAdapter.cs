using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;

namespace ChatVector.Core.Lora;

/// <summary>
/// One module's LoRA factors: the change to the model tensor <see cref="Target"/> is scaling·B·A, transposed for an
/// embedding (whose A is (r, vocabulary)) and for a <c>fan_in_fan_out</c> layer (whose weight is stored (in, out)).
/// </summary>
/// <param name="Embedding">An embedding's factors (lora_embedding_A/B), always transposed.</param>
public sealed record LoraModule(string Module, string Target, StoredTensor A, StoredTensor B, int Rank, double Scaling, bool Transposed, bool Embedding = false)
{
    /// <summary>The delta's shape, which the model's tensor must have: (out, in), or (in, out) transposed.</summary>
    public long[] DeltaShape => Transposed ? [A.Info.Shape[1], B.Info.Shape[0]] : [B.Info.Shape[0], A.Info.Shape[1]];
}

/// <summary>A tensor the adapter stores whole (modules_to_save, a trained bias, a saved embedding): it replaces the model's <see cref="Target"/>.</summary>
public sealed record LoraWholeTensor(string Target, StoredTensor Stored);

/// <summary>
/// A PEFT LoRA adapter folder (<c>adapter_config.json</c> and <c>adapter_model.safetensors</c>), opened and checked
/// from the config and the file's header alone: every tensor is a factor of a module, or a whole tensor the config
/// accounts for; every pair chains at the config's rank. Nothing of the values is read here.
/// </summary>
public sealed class LoraAdapter
{
    public const string WeightsFileName = "adapter_model.safetensors";
    public const string PickleWeightsFileName = "adapter_model.bin";

    private LoraAdapter(string path, LoraAdapterConfig config, SafeTensorFile file, IReadOnlyList<LoraModule> modules, IReadOnlyList<LoraWholeTensor> wholes)
    {
        Path = path;
        Config = config;
        File = file;
        Modules = modules;
        Wholes = wholes;
    }

    /// <summary>The adapter folder, full path.</summary>
    public string Path { get; }
    public LoraAdapterConfig Config { get; }
    /// <summary>adapter_model.safetensors.</summary>
    public SafeTensorFile File { get; }
    /// <summary>The modules it changes by scaling·B·A, in the file's order of their A factors.</summary>
    public IReadOnlyList<LoraModule> Modules { get; }
    /// <summary>The tensors it replaces whole.</summary>
    public IReadOnlyList<LoraWholeTensor> Wholes { get; }
    /// <summary>Modules whose factors the file holds but the config does not target (target_modules, layers_to_transform, exclude_modules): not applied, as PEFT does not.</summary>
    public IReadOnlyList<string> Untargeted { get; private init; } = [];

    /// <summary>Those of <see cref="Untargeted"/> that exclude_modules names (whatever target_modules says of them).</summary>
    public IReadOnlyList<string> Excluded { get; private init; } = [];

    /// <summary>Opens the adapter at <paramref name="path"/> (its folder, or a file in it); throws <see cref="LoraAdapterException"/> or <see cref="SafeTensorException"/>.</summary>
    public static LoraAdapter Open(string path)
    {
        var folder = System.IO.Path.GetFullPath(path);
        if (System.IO.File.Exists(folder) && System.IO.Path.GetFileName(folder) is LoraAdapterConfig.FileName or WeightsFileName or PickleWeightsFileName)
            folder = System.IO.Path.GetDirectoryName(folder)!;
        if (!Directory.Exists(folder))
            throw System.IO.File.Exists(folder)
                ? new LoraAdapterException(LoraAdapterRule.AdapterConfigMissing, folder, "is a file; give the adapter's folder (adapter_config.json and adapter_model.safetensors)")
                : new SafeTensorException(SafeTensorRule.FileNotFound, folder, "no such file or folder");
        var config = LoraAdapterConfig.Read(System.IO.Path.Combine(folder, LoraAdapterConfig.FileName));
        var file = SafeTensorFile.Open(WeightsPath(folder));
        var (modules, wholes, untargeted, excluded) = Sort(file, config);
        return new LoraAdapter(folder, config, file, modules, wholes) { Untargeted = untargeted, Excluded = excluded };
    }

    /// <summary>
    /// Where vectors of this adapter come from: the model it was trained on and the adapter folder, with the chat template
    /// and eos token of a tokenizer saved beside the adapter (as trainers often do), for the merged model's tokenizer. An
    /// adapter without tokenizer_config.json (the usual case) expects none: the merged model keeps its own, without a warning.
    /// </summary>
    public VectorProvenance ProvenanceOn(StoredModel @base)
    {
        var sideFiles = new ModelSideFiles(Path, Directory.GetFiles(Path).Where(f => !f.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList());
        return new VectorProvenance(@base.Path, Path, sideFiles.ChatTemplateJson, sideFiles.EosToken)
        {
            EosTokenIdJson = sideFiles.EosTokenIdJson,
            ExpectsTokenizerSettings = System.IO.File.Exists(sideFiles.PathOf(ModelSideFiles.TokenizerConfig)),
        };
    }

    /// <summary>
    /// This adapter as it applies to <paramref name="model"/> (the model it is applied to), checked: every module and
    /// whole tensor is there, in the delta's shape, of a dtype a delta adds to; every misfit is named in one exception.
    /// Whether a (non-embedding) change is transposed is decided as PEFT decides it, by the layer's type and not by
    /// <c>fan_in_fan_out</c>: PEFT sets the flag to False on an nn.Linear (a weight stored (out, in), every LLaMA-family
    /// weight) and to True on transformers' Conv1D (stored (in, out): GPT-2's), each with a warning, which
    /// <see cref="Notes"/> keeps.
    /// </summary>
    public LoraAdapter FitTo(StoredModel model)
    {
        bool conv1DModel = IsConv1DModel(model);
        var modules = Modules.Select(m => m.Embedding ? m : m with { Transposed = conv1DModel && IsConv1DLayer(m, model) }).ToList();
        var notes = new List<string>();
        var disagreeing = modules.Where(m => !m.Embedding && m.Transposed != Config.FanInFanOut).Select(m => m.Module).ToList();
        if (disagreeing.Count > 0)
            notes.Add($"{Path}: fan_in_fan_out is {(Config.FanInFanOut ? "true" : "false")}, but {model.Path}'s {string.Join(", ", disagreeing.Take(3))}{(disagreeing.Count > 3 ? ", ..." : "")} {(Config.FanInFanOut ? "are nn.Linear layers, stored (out, in)" : "are Conv1D layers, stored (in, out)")}: read as {(Config.FanInFanOut ? "false" : "true")} there, as PEFT does.");
        var fitted = new LoraAdapter(Path, Config, File, modules, Wholes) { Untargeted = Untargeted, Excluded = Excluded, Notes = notes };
        fitted.CheckFits(model);
        return fitted;
    }

    /// <summary>What fitting the adapter to a model changed from its config (PEFT warns of the same), for the cmdlets to show.</summary>
    public IReadOnlyList<string> Notes { get; private init; } = [];

    /// <summary>Everything a user should hear about how the adapter applies: <see cref="Notes"/> and the modules left out, by the key that leaves them out.</summary>
    public IEnumerable<string> Warnings => Notes.Concat(LeftOut(Untargeted.Except(Excluded).ToList(), $"target_modules{LayerKeys} do not name them"))
        .Concat(LeftOut(Excluded, "exclude_modules names them"));

    /// <summary>The layer keys that narrowed target_modules, for the warning: layers_to_transform, counted in layers_pattern's lists when given.</summary>
    private string LayerKeys => LayerKeysOf(Config);

    private static string LayerKeysOf(LoraAdapterConfig config) => config.LayersToTransform is null ? ""
        : config.LayersPattern is null ? " and layers_to_transform" : " and layers_to_transform (in layers_pattern's lists)";

    /// <summary>One warning for the modules one key leaves out (none when there are none), naming the first five.</summary>
    private IEnumerable<string> LeftOut(IReadOnlyList<string> modules, string why) => modules.Count == 0 ? [] :
        [$"{Path}: the factors of {modules.Count} module(s) are left out, as PEFT leaves them out: {LoraAdapterConfig.FileName}'s {why} ({string.Join(", ", modules.Take(5))}{(modules.Count > 5 ? ", ..." : "")})."];

    /// <summary>transformers' model types whose projections are Conv1D (weights stored (in, out)).</summary>
    private static readonly string[] Conv1DModelTypes = ["gpt2", "openai-gpt", "imagegpt", "decision_transformer"];

    /// <summary>The Conv1D layers of those models (their attention and MLP projections); their heads and other layers are nn.Linear.</summary>
    private static readonly string[] Conv1DLayerNames = ["c_attn", "c_proj", "c_fc", "q_attn"];

    /// <summary>
    /// Whether <paramref name="module"/> is a Conv1D layer of a Conv1D model: named as one; a layer of another name only
    /// when its weight fits the transposed change and not the plain one.
    /// </summary>
    private static bool IsConv1DLayer(LoraModule module, StoredModel model)
    {
        if (Conv1DLayerNames.Contains(module.Module[(module.Module.LastIndexOf('.') + 1)..])) return true;
        if (model.Find(module.Target) is not { } stored) return false;
        return !stored.Info.Shape.SequenceEqual((module with { Transposed = false }).DeltaShape)
            && stored.Info.Shape.SequenceEqual((module with { Transposed = true }).DeltaShape);
    }

    /// <summary>Whether <paramref name="model"/>'s architecture stores its projections as transformers' Conv1D.</summary>
    public static bool IsConv1DModel(StoredModel model) =>
        model.SideFiles?.ConfigJson?["model_type"]?.ToString() is { } type && Conv1DModelTypes.Contains(type);

    private void CheckFits(StoredModel model)
    {
        var problems = new List<string>();
        foreach (var (target, shape) in Modules.Select(m => (m.Target, m.DeltaShape)).Concat(Wholes.Select(w => (w.Target, w.Stored.Info.Shape))))
        {
            var stored = model.Find(target);
            if (stored is null)
                problems.Add(target == "lm_head.weight" && model.SideFiles?.TiedEmbeddings == true
                    ? $"'{target}': the model ties its LM head to its input embedding (tie_word_embeddings) and stores no '{target}'; a change to the head alone cannot be applied to it"
                    : $"'{target}': the model has no such tensor");
            else if (!stored.Info.Shape.SequenceEqual(shape))
                problems.Add($"'{target}': the model's shape is [{string.Join(", ", stored.Info.Shape)}], the adapter's [{string.Join(", ", shape)}]");
            else if (!stored.Info.DType.IsComputable())
                problems.Add($"'{target}': the model's tensor is {stored.Info.DType}; a change can only be added to F16, BF16, F32 or F64 tensors");
        }
        if (problems.Count > 0)
            throw new LoraAdapterException(LoraAdapterRule.AdapterDoesNotFitModel, File.Path,
                $"{problems.Count} tensor(s) of the adapter do not fit {model.Path}: {string.Join("; ", problems.Take(10))}{(problems.Count > 10 ? $"; ... ({problems.Count - 10} more)" : "")}. " +
                "Was it trained on another model?");
    }

    private static string WeightsPath(string folder)
    {
        var weights = System.IO.Path.Combine(folder, WeightsFileName);
        if (System.IO.File.Exists(weights)) return weights;
        var pickle = System.IO.Path.Combine(folder, PickleWeightsFileName);
        if (System.IO.File.Exists(pickle))
            throw new LoraAdapterException(LoraAdapterRule.PickleAdapterRefused, pickle,
                "the adapter's weights are a pickle; loading pickle can run arbitrary code, so ChatVector reads only safetensors. Convert it once in a trusted " +
                "environment, e.g. in Python: PeftModel.from_pretrained(model, dir).save_pretrained(out, safe_serialization=True)");
        throw new LoraAdapterException(LoraAdapterRule.AdapterWeightsMissing, folder, $"the folder has no {WeightsFileName}");
    }

    /// <summary>Every tensor of the file as a factor or a whole tensor; a name or a pair that cannot be one is refused.</summary>
    private static (List<LoraModule>, List<LoraWholeTensor>, List<string> Untargeted, List<string> Excluded) Sort(SafeTensorFile file, LoraAdapterConfig config)
    {
        var factors = new Dictionary<string, (StoredTensor? A, StoredTensor? B, bool Embedding)>(StringComparer.Ordinal);
        var order = new List<string>();
        var wholes = new List<LoraWholeTensor>();
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var info in file.Tensors)
        {
            var stored = new StoredTensor(file, info);
            var name = LoraTensorNames.Parse(info.Name) ?? throw Unknown(file, info.Name,
                $"not a name of PEFT's LoRA layout ({LoraTensorNames.Prefix}<module>.lora_A.weight, .lora_B.weight, .lora_embedding_A, .lora_embedding_B, or a whole tensor of the model)");
            if (!info.DType.IsComputable())
                throw Malformed(file, info.Name, $"its dtype is {info.DType}; adapter tensors are F16, BF16, F32 or F64");
            switch (name.Kind)
            {
                case LoraTensorKind.DoraMagnitude:
                    throw new LoraAdapterException(LoraAdapterRule.DoraNotAdditive, file.Path,
                        "a DoRA magnitude vector: DoRA rescales every row by a learned magnitude, so its change is not a vector to add; merge it with PEFT instead", info.Name);
                case LoraTensorKind.LoraBias:
                    throw new LoraAdapterException(LoraAdapterRule.AdapterFeatureNotSupported, file.Path,
                        "a LoRA bias (lora_bias): ChatVector applies only scaling·B·A and whole tensors; merge it with PEFT instead", info.Name);
                case LoraTensorKind.Whole:
                    if (!AccountsForWhole(config, name))
                        throw Unknown(file, info.Name, $"a whole tensor of module '{name.Module}', which neither modules_to_save nor 'bias' in {LoraAdapterConfig.FileName} accounts for");
                    if (!targets.Add(name.Target)) throw Malformed(file, info.Name, $"a second tensor for '{name.Target}'");
                    wholes.Add(new LoraWholeTensor(name.Target, stored));
                    break;
                default:
                    bool embedding = name.Kind is LoraTensorKind.EmbeddingA or LoraTensorKind.EmbeddingB;
                    bool isA = name.Kind is LoraTensorKind.LinearA or LoraTensorKind.EmbeddingA;
                    if (!factors.TryGetValue(name.Module, out var pair)) order.Add(name.Module);
                    else if (pair.Embedding != embedding) throw Malformed(file, info.Name, $"module '{name.Module}' has both linear (lora_A/lora_B) and embedding (lora_embedding_A/B) factors");
                    else if ((isA ? pair.A : pair.B) is not null) throw Malformed(file, info.Name, $"a second {(isA ? "A" : "B")} factor of module '{name.Module}'");
                    factors[name.Module] = isA ? (stored, pair.B, embedding) : (pair.A, stored, embedding);
                    break;
            }
        }
        var modules = new List<LoraModule>(order.Count);
        var untargeted = new List<string>();
        var excluded = new List<string>();
        foreach (var module in order)
        {
            // Factors of a module the config does not target, PEFT never loads into a LoRA layer (unexpected keys to
            // it): left out unchecked, and named.
            var selection = config.Select(module);
            if (selection != LoraModuleSelection.Targeted)
            {
                untargeted.Add(module);
                if (selection == LoraModuleSelection.Excluded) excluded.Add(module);
                continue;
            }
            var (a, b, embedding) = factors[module];
            var target = module + ".weight";
            if (a is null || b is null)
                throw Malformed(file, (a ?? b)!.Name, $"module '{module}' has its {(a is null ? "B" : "A")} factor but not its {(a is null ? "A" : "B")} factor");
            if (!targets.Add(target)) throw Malformed(file, a.Name, $"'{target}' is both saved whole and changed by LoRA factors");
            modules.Add(Chain(file, config, module, target, a, b, embedding));
        }
        // Factors, none of them for a module the config targets: PEFT refuses to load such an adapter (no module matches
        // its config), and applied it would change nothing of what it was trained to.
        if (modules.Count == 0 && untargeted.Count > 0)
            throw new LoraAdapterException(LoraAdapterRule.AdapterConfigInvalid, config.Source,
                $"none of the {untargeted.Count} module(s) the adapter holds factors for is targeted by its config ({(excluded.Count == untargeted.Count ? "exclude_modules names all of them" : $"target_modules{LayerKeysOf(config)} name none of them")}); PEFT refuses to load it. Fix target_modules, layers_to_transform, layers_pattern or exclude_modules");
        return (modules, wholes, untargeted, excluded);
    }

    /// <summary>A whole tensor is the adapter's when modules_to_save names its module, when it is a trained bias, or a saved embedding or LM head.</summary>
    private static bool AccountsForWhole(LoraAdapterConfig config, LoraTensorName name) =>
        config.SavesWhole(name.Module)
        || (config.Bias != "none" && name.Target.EndsWith(".bias", StringComparison.Ordinal))
        || HuggingFaceNames.IsEmbedding(name.Target);

    /// <summary>A and B must be matrices that chain at the module's configured rank: A (r, in), B (out, r).</summary>
    private static LoraModule Chain(SafeTensorFile file, LoraAdapterConfig config, string module, string target, StoredTensor a, StoredTensor b, bool embedding)
    {
        long[] shapeA = a.Info.Shape, shapeB = b.Info.Shape;
        if (shapeA.Length != 2) throw Malformed(file, a.Name, $"A has shape [{string.Join(", ", shapeA)}]; a LoRA factor is a matrix (convolutions are not read)");
        if (shapeB.Length != 2) throw Malformed(file, b.Name, $"B has shape [{string.Join(", ", shapeB)}]; a LoRA factor is a matrix (convolutions are not read)");
        int rank = config.RankOf(module);
        if (shapeA[0] != rank || shapeB[1] != rank)
            throw Malformed(file, a.Name,
                $"A is [{string.Join(", ", shapeA)}] and B [{string.Join(", ", shapeB)}], but {LoraAdapterConfig.FileName} gives module '{module}' rank {rank} ('r' or 'rank_pattern'): A must be ({rank}, in), B (out, {rank})");
        if (shapeA[1] == 0 || shapeB[0] == 0) throw Malformed(file, a.Name, "an empty factor");
        // fan_in_fan_out is resolved against the model the adapter is applied to (FitTo).
        return new LoraModule(module, target, a, b, rank, config.ScalingOf(module), Transposed: embedding || config.FanInFanOut, Embedding: embedding);
    }

    private static LoraAdapterException Unknown(SafeTensorFile file, string tensor, string detail) => new(LoraAdapterRule.AdapterTensorUnknown, file.Path, detail, tensor);
    private static LoraAdapterException Malformed(SafeTensorFile file, string tensor, string detail) => new(LoraAdapterRule.AdapterTensorMalformed, file.Path, detail, tensor);
}
