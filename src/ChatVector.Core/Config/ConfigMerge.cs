using ChatVector.Core.Format;
using ChatVector.Core.Lora;
using ChatVector.Core.Merge;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Config;

/// <summary>What a config merges: one lazy output per tensor of the base model, in its order; nothing computed yet.</summary>
/// <param name="ChatTemplateJson">The output's chat template as JSON text, when the config sets one; null keeps the base's.</param>
/// <param name="LayerCount">The output's layers when slices stack them (config.json's num_hidden_layers), else null.</param>
/// <param name="Tokenizer">The output's tokenizer when the config maps vocabularies (it then holds the chat template), else null: the base's.</param>
/// <param name="VocabSize">config.json's vocab_size when embeddings of different sizes were cut to fewer rows than the base's, else null.</param>
/// <param name="Warnings">What the user should know before using the output (embedding rows cut), beside the <paramref name="Notes"/>.</param>
public sealed record ConfigPlan(MergeConfig Config, StoredModel Base, IReadOnlyList<ITensorSource> Outputs, IReadOnlyList<string> Notes,
    string? ChatTemplateJson = null, int? LayerCount = null, OutputTokenizer? Tokenizer = null, long? VocabSize = null,
    IReadOnlyList<string>? Warnings = null);

/// <summary>
/// Plans a <see cref="MergeConfig"/>: opens the models (headers only), pairs each with the base by tensor name into
/// lazy task vectors (model − base), and gives each of the base's tensors to the config's method with its checked
/// parameters. Every problem (a tensor missing from a model, shapes that cannot merge) is reported at once, before
/// any tensor is read.
/// </summary>
public static class ConfigMerge
{
    public static ConfigPlan Plan(MergeConfig config)
    {
        var problems = new List<string>();
        var notes = IgnoredParameters.Notes(config).ToList();
        var warnings = new List<string>(); // the adapters' (what PEFT warns of), shown as warnings, beside a cut's
        if (config.Slices is not null) return SliceMerge.Plan(config, problems, notes, warnings);
        if (config.BaseModel is null) return BaseFreeMerge.Plan(config, problems, notes, warnings);
        var @base = StoredModel.Open(config.BaseModel.Path);
        // mergekit lists the base among the models of a TIES or DARE config, often without parameters: its task vector
        // is zero and mergekit leaves it out; so does this.
        var merged = config.Models.Where(m => config.Method.BaseCountsAsModel || m.LoraPath != config.BaseModel.LoraPath || !SamePath(m.Path, @base.Path)).ToList();
        if (merged.Count < config.Models.Count) notes.Add("The base model listed among the models is left out: its task vector is zero.");
        // mergekit adds the base to the models when it is not listed; a method that merges it as one of them (karcher) gets it.
        if (config.Method.BaseCountsAsModel && !merged.Any(m => SamePath(m.Path, @base.Path) && m.LoraPath == config.BaseModel.LoraPath))
        {
            merged.Add(config.BaseModel with { Parameters = new Dictionary<string, ConfigValue>() });
            notes.Add("The base model is merged as one of the models, as mergekit adds it when the models do not list it.");
        }
        if (merged.Count == 0 && config.Method.MinimumModelCount > 0) problems.Add("no model other than the base to merge.");
        else if (config.Method.ModelCountProblem(merged.Count) is { } wanted)
            problems.Add(wanted.Exactly
                ? $"{config.Method.Name} merges the base and {wanted.Count} other model{(wanted.Count == 1 ? "" : "s")}; the config gives {merged.Count}."
                : $"{config.Method.Name} merges the base and at least {wanted.Count} other models; the config gives {merged.Count}.");
        var opened = merged.Select(m => StoredModel.Open(m.Path)).ToList();
        var pairings = merged.Select((m, i) => (Model: m, Pairing: ChatVectorPairing.Pair(@base, opened[i], _ => true))).ToList();
        string? template = ChatTemplate(config, merged, notes, problems);
        // With a tokenizer setting, embeddings of other vocabulary sizes are mapped onto the output's vocabulary.
        var vocabulary = config.Tokenizer is { } settings
            ? VocabularyMerge.Create(settings, [(config.BaseModel!, @base), .. merged.Select((m, i) => (m, opened[i]))], template, problems)
            : null;
        // Without one, embeddings of other sizes are cut to rows every input has, as mergekit's method does (or refused).
        var cut = vocabulary is null ? VocabularyCut.Plan(config.Method, ("the base", @base), merged.Select((m, i) => (m, opened[i])).ToList(), problems) : null;
        foreach (var (model, pairing) in pairings)
        {
            // The embeddings' shapes are the vocabulary's or the cut's to judge.
            foreach (var mismatch in pairing.ShapeMismatches.Where(m => !HuggingFaceNames.IsEmbedding(m.Name)))
                problems.Add($"model '{model.Reference}': {mismatch}.");
            foreach (var name in pairing.OnlyInBase.Take(5)) problems.Add($"model '{model.Reference}' has no tensor '{name}' of the base.");
        }
        var vectorsByName = pairings.Select((p, i) =>
        {
            var vectors = p.Pairing.Vectors.ToDictionary(v => v.Name, v => (ITensorSource)v, StringComparer.Ordinal);
            return p.Model.LoraPath is { } lora ? WithLora(p.Model, lora, opened[i], @base, vectors, problems, warnings) : vectors;
        }).ToList();
        // base+lora: the tensors its adapter touches are the base with the adapter applied, and every task vector of
        // them is taken against that.
        var adaptedBase = AdaptedBase(config.BaseModel, @base, problems, warnings);
        var baseProvenance = VectorProvenance.FromModels(@base, @base);
        foreach (var vectors in vectorsByName)
            foreach (var (name, adapted) in adaptedBase)
                if (vectors.TryGetValue(name, out var vector)) vectors[name] = Rebased(vector, adapted, @base.Find(name)!, baseProvenance);
        if (cut is not null)
            foreach (var name in adaptedBase.Keys.Where(cut.Cuts))
                problems.Add($"tensor '{name}' has different numbers of rows in the models; cutting them with a LoRA adapter on the base '{config.BaseModel.Reference}' is not supported yet: give 'tokenizer_source' to map the vocabularies.");

        var layers = LayerPlaces.Of(@base.Tensors.Select(t => t.Name));
        var outputs = new List<ITensorSource>(@base.Tensors.Count);
        foreach (var stored in @base.Tensors)
        {
            ITensorSource source = adaptedBase.TryGetValue(stored.Name, out var adapted) ? adapted : new StoredTensorSource(stored);
            var dtype = stored.Info.DType;
            if (!dtype.IsComputable())
            {
                outputs.Add(source); // integer buffers pass through, as in every merge
                continue;
            }
            // Gradients and filters give each tensor its own values: resolved at its layer's place, then checked.
            double t = layers.PlaceOf(stored.Name);
            ParameterValues mergeParameters;
            IReadOnlyList<ParameterValues> perModel;
            try
            {
                (mergeParameters, perModel) = config.Method.CheckParameters(ConfigValue.ForTensor(config.Parameters, stored.Name, t),
                    merged.Select(m => (IReadOnlyDictionary<string, object>?)ConfigValue.ForTensor(m.Parameters, stored.Name, t)).ToList(),
                    merged.Select(m => m.Reference).ToList());
            }
            catch (MethodParameterException e)
            {
                problems.Add($"tensor '{stored.Name}': {e.Message}");
                continue;
            }
            var vectors = new List<MethodVector>();
            ITensorSource merging = source;
            if (vocabulary is not null && HuggingFaceNames.IsEmbedding(stored.Name))
            {
                if (opened.Any(m => m.Find(stored.Name) is null)) continue; // reported above: a model lacks the tensor
                merging = vocabulary.Tensor(stored.Name, 0, config.DType);
                for (int i = 0; i < merged.Count; i++)
                    vectors.Add(new MethodVector(new ChatVectorTensor(vocabulary.Tensor(stored.Name, i + 1, config.DType), merging, VectorProvenance.FromModels(@base, opened[i])), perModel[i]));
            }
            else if (cut is not null && cut.Cuts(stored.Name))
            {
                if (opened.Any(m => m.Find(stored.Name) is null)) continue; // reported above: a model lacks the tensor
                merging = cut.Rows(stored);
                for (int i = 0; i < merged.Count; i++)
                    vectors.Add(new MethodVector(new ChatVectorTensor(cut.Rows(opened[i].Find(stored.Name)!), merging, VectorProvenance.FromModels(@base, opened[i])), perModel[i]));
            }
            else
                for (int i = 0; i < vectorsByName.Count; i++)
                    if (vectorsByName[i].TryGetValue(stored.Name, out var vector)) vectors.Add(new MethodVector(vector, perModel[i]));
            if (vectors.Count < vectorsByName.Count) continue; // reported above (the tensor is missing, or its shape differs)
            var outputDType = config.OutDType ?? config.DType ?? dtype;
            outputs.Add(config.Method.Merge(new MethodInputs(merging, vectors, mergeParameters, outputDType, config.Method.BaseCountsAsModel)));
        }
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems);
        if (vocabulary is not null)
        {
            notes.Add($"{config.Tokenizer!.Key}: {vocabulary.Plan.OutputRows} vocabulary rows (the base has {@base.Tensors.First(t => HuggingFaceNames.IsEmbedding(t.Name)).Info.Shape[0]}).");
            return new ConfigPlan(config, @base, outputs, notes, null, Tokenizer: vocabulary.Tokenizer, Warnings: warnings);
        }
        return new ConfigPlan(config, @base, outputs, notes, template, VocabSize: cut?.VocabSize, Warnings: [.. cut?.Warnings ?? [], .. warnings]);
    }

    /// <summary>The chat template as JSON text: the config's Jinja text, or with <c>auto</c> the one most merged models carry.</summary>
    internal static string? ChatTemplate(MergeConfig config, List<ConfigModel> merged, List<string> notes, List<string> problems)
    {
        if (config.ChatTemplate is null) return null;
        if (config.ChatTemplate != MergeConfig.AutoChatTemplate)
            return Newtonsoft.Json.JsonConvert.SerializeObject(BuiltInChatTemplates.Find(config.ChatTemplate) ?? config.ChatTemplate);
        var templates = merged.Select(m => StoredModel.Open(m.Path).SideFiles?.ChatTemplateJson).Where(t => t is not null).ToList();
        if (templates.Count == 0)
        {
            problems.Add("'chat_template: auto': none of the merged models has a chat_template in its tokenizer_config.json.");
            return null;
        }
        var chosen = templates.GroupBy(t => t).OrderByDescending(g => g.Count()).First().Key; // the first of equals wins
        notes.Add($"chat_template auto: the template of {templates.Count(t => t == chosen)} of {merged.Count} model(s).");
        return chosen;
    }


    /// <summary>
    /// The task vectors of <c>model+lora</c>: the adapter applied to the model (in float32, not rounded to the model's dtype
    /// as mergekit's merged copy is), minus the base. A refused or misfitting adapter is a problem of the config.
    /// </summary>
    private static Dictionary<string, ITensorSource> WithLora(ConfigModel model, string loraPath, StoredModel opened, StoredModel @base,
        Dictionary<string, ITensorSource> vectors, List<string> problems, List<string> warnings)
    {
        try
        {
            var adapter = LoraAdapter.Open(loraPath).FitTo(opened);
            warnings.AddRange(adapter.Warnings);
            return LoraVectors.OnModel(adapter, opened, @base, vectors, VectorProvenance.FromModels(@base, opened));
        }
        catch (InputRuleException e)
        {
            problems.Add($"model '{model.Reference}': {e.Message}");
            return vectors;
        }
    }

    /// <summary>The base's tensors that its adapter touches (none without one), as <see cref="ConfigAdapters"/> gives them.</summary>
    private static Dictionary<string, ITensorSource> AdaptedBase(ConfigModel entry, StoredModel @base, List<string> problems, List<string> warnings)
    {
        var adapters = ConfigAdapters.Open([entry], _ => @base, problems, warnings, role: "base model");
        return adapters.Touched(entry).Distinct().ToDictionary(name => name, name => adapters.Tensor(entry, @base.Find(name)!, name), StringComparer.Ordinal);
    }

    /// <summary>
    /// A task vector taken against the adapted base instead of the stored one: a model's values (a chat vector's chat
    /// side) minus <paramref name="adapted"/>; a bare adapter delta (a model+lora of the base's own folder) is first applied
    /// to the stored base.
    /// </summary>
    private static ITensorSource Rebased(ITensorSource vector, ITensorSource adapted, StoredTensor storedBase, VectorProvenance provenance) => vector switch
    {
        ChatVectorTensor taskVector => new ChatVectorTensor(taskVector.Chat, adapted, taskVector.Provenance),
        LoraDeltaTensor delta => new ChatVectorTensor(new LoraAppliedTensor(new StoredTensorSource(storedBase), delta), adapted, provenance),
        _ => throw new InvalidOperationException($"a task vector of '{vector.Name}' of an unexpected kind ({vector.GetType().Name})"),
    };

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
