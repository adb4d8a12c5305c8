using ChatVector.Core.Format;
using ChatVector.Core.Lora;
using ChatVector.Core.Merge;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Config;

/// <summary>
/// Plans a config with <c>slices:</c> (layer stacking): the output's layers are the slices' layers in order, renumbered
/// from 0. For each layer of a slice, the method merges that layer of each source (the base: the source that is the
/// config's <c>base_model</c>, or a passthrough slice's one source); the parameters at t = the layer's place in its
/// slice, a source's own over the slice's over the global ones. The tensors before the layers (the input embedding) come
/// from the first slice's sources, the others (final norm, LM head) from the last slice's, at t = 0. Stored tensors are
/// renamed without a copy: a layer passed through keeps its bytes. Embeddings of different sizes among a slice's sources
/// are mapped onto a tokenizer setting's vocabulary (<see cref="VocabularyMerge.Among"/>) or, without one, cut as the method
/// cuts them (<see cref="VocabularyCut.PlanSlices"/>); chat_template is written as in any config.
/// </summary>
internal static class SliceMerge
{
    public static ConfigPlan Plan(MergeConfig config, List<string> problems, List<string> notes, List<string> warnings)
    {
        var slices = config.Slices!;
        var opened = new Dictionary<string, StoredModel>(StringComparer.Ordinal);
        StoredModel Open(ConfigModel model) => opened.TryGetValue(model.Path, out var m) ? m : opened[model.Path] = StoredModel.Open(model.Path);
        var method = config.Method;

        // Each slice's base source, and the range checks, before anything else.
        var bases = new List<ConfigSliceSource?>();
        foreach (var slice in slices)
        {
            foreach (var source in slice.Sources)
            {
                int layers = LayerCount(Open(source.Model));
                if (source.End > layers)
                    problems.Add($"slice at line {slice.Line}: model '{source.Model.Reference}' has {layers} layers; layer_range [{source.Start}, {source.End}] reaches past them.");
            }
            var @base = method.ModelCount == 0
                ? (slice.Sources.Count == 1 ? slice.Sources[0] : null)
                : (slice.BaseModel ?? config.BaseModel) is { } b ? slice.Sources.FirstOrDefault(s => s.Model.Path == b.Path && s.Model.LoraPath == b.LoraPath)
                // Without any base, a method that merges the base as one of its models (linear, karcher) takes the
                // first source as the reference its vectors are taken against: Σ wᵢ·xᵢ is the same for any reference.
                : method.BaseCountsAsModel ? slice.Sources[0] : null;
            if (@base is null)
                problems.Add(method.ModelCount == 0
                    ? $"slice at line {slice.Line}: {method.Name} takes one source per slice; it has {slice.Sources.Count}."
                    : $"slice at line {slice.Line}: no source is the base_model; {method.Name} merges each source's task vector against the base.");
            bases.Add(@base);
        }
        // Sources given as model+lora: each adapter opened and checked against its model, before anything is read.
        var adapters = ConfigAdapters.Open(slices.SelectMany(s => s.Sources).Select(s => s.Model), Open, problems, warnings);
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems.Distinct().ToList());

        var outputs = new List<ITensorSource>();
        var first = Open(bases[0]!.Model);
        var last = Open(bases[^1]!.Model);
        var reference = config.BaseModel is { } baseModel ? Open(baseModel) : first;
        string? template = ConfigMerge.ChatTemplate(config, slices.SelectMany(s => s.Sources).Select(s => s.Model).DistinctBy(m => m.Path).ToList(), notes, problems);
        var (vocabularyInputs, cut, mapped) = config.Tokenizer is { } settings
            ? MapVocabularies(config, settings, bases!, Open, template, problems)
            : CutVocabularies(config, bases!, reference, Open, problems);
        // Before the layers: the input embedding, from the first slice.
        foreach (var stored in first.Tensors.Where(t => HuggingFaceNames.LayerNumber(t.Name) is null && IsBeforeLayers(t.Name)))
            outputs.Add(MergeTensor(config, slices[0], bases[0]!, stored.Name, stored.Name, 0, 0, Open, adapters, vocabularyInputs, problems));
        int outputLayer = 0;
        for (int s = 0; s < slices.Count; s++)
        {
            var slice = slices[s];
            var @base = bases[s]!;
            for (int i = 0; i < @base.Length; i++, outputLayer++)
            {
                double t = @base.Length > 1 ? (double)i / (@base.Length - 1) : 1; // mergekit's plan_slice: t = 1 for a slice of one layer
                foreach (var stored in Open(@base.Model).Tensors.Where(x => HuggingFaceNames.LayerNumber(x.Name) == @base.Start + i))
                    outputs.Add(MergeTensor(config, slice, @base, stored.Name, HuggingFaceNames.WithLayerNumber(stored.Name, outputLayer), i, t, Open, adapters, vocabularyInputs, problems));
            }
        }
        // After the layers: the final norm and the LM head, from the last slice.
        foreach (var stored in last.Tensors.Where(t => HuggingFaceNames.LayerNumber(t.Name) is null && !IsBeforeLayers(t.Name)))
            outputs.Add(MergeTensor(config, slices[^1], bases[^1]!, stored.Name, stored.Name, 0, 0, Open, adapters, vocabularyInputs, problems));
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems.Distinct().ToList());
        notes.Add($"{slices.Count} slice(s): {outputLayer} layers.");
        if (mapped is not null)
        {
            notes.Add($"{config.Tokenizer!.Key}: {mapped.Plan.OutputRows} vocabulary rows, each vocabulary tensor mapped among its slice's sources.");
            return new ConfigPlan(config, reference, outputs, notes, null, LayerCount: outputLayer, Tokenizer: mapped.Tokenizer, Warnings: warnings);
        }
        return new ConfigPlan(config, reference, outputs, notes, template, LayerCount: outputLayer, VocabSize: cut?.VocabSize, Warnings: [.. cut?.Warnings ?? [], .. warnings]);
    }

    /// <summary>A vocabulary tensor's input from a source model, when its sources' vocabularies differ: by tensor name.</summary>
    private delegate ITensorSource VocabularyInput(ConfigModel source);

    /// <summary>
    /// A tokenizer setting with slices: the output vocabulary built over every model the config names (the base_model
    /// first), each vocabulary tensor's rows mapped among the sources of its slice (the first slice's for the input
    /// embedding, the last's for the LM head), as mergekit maps each tensor among its own inputs.
    /// </summary>
    private static (Dictionary<string, VocabularyInput>, VocabularyCut?, VocabularyMerge?) MapVocabularies(MergeConfig config, TokenizerSettings settings,
        IReadOnlyList<ConfigSliceSource> bases, Func<ConfigModel, StoredModel> open, string? template, List<string> problems)
    {
        var inputs = new Dictionary<string, VocabularyInput>(StringComparer.Ordinal);
        var referenced = new List<ConfigModel>();
        foreach (var model in (config.BaseModel is { } b ? [b] : Array.Empty<ConfigModel>()).Concat(config.Slices!.SelectMany(s => s.Sources).Select(s => s.Model)))
            if (!referenced.Any(m => m.Path == model.Path)) referenced.Add(model);
        var merge = VocabularyMerge.Create(settings, referenced.Select(m => (m, open(m))).ToList(), template, problems, firstIsBase: config.BaseModel is not null);
        if (merge is null) return (inputs, null, null);
        int PositionOf(ConfigModel model) => referenced.FindIndex(m => m.Path == model.Path);
        var views = new Dictionary<int, VocabularyMerge>();
        foreach (var (index, beforeLayers) in new[] { (0, true), (config.Slices!.Count - 1, false) })
        {
            var slice = config.Slices[index];
            var positions = slice.Sources.Select(source => PositionOf(source.Model)).Distinct().ToList();
            // One view per slice (a config of one slice maps both vocabulary tensors among the same sources).
            if (!views.TryGetValue(index, out var view))
                views[index] = view = merge.Among(positions, config.BaseModel is null ? null : 0, $"the sources of the slice at line {slice.Line}", problems);
            foreach (var tensor in open(bases[index].Model).Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name) && IsBeforeLayers(t.Name) == beforeLayers))
            {
                var lacking = slice.Sources.Where(source => open(source.Model).Find(tensor.Name) is null).ToList();
                foreach (var source in lacking) problems.Add($"model '{source.Model.Reference}' has no tensor '{tensor.Name}' to map onto the output vocabulary.");
                if (lacking.Count == 0) inputs[tensor.Name] = source => view.Tensor(tensor.Name, positions.IndexOf(PositionOf(source)), config.DType);
            }
        }
        return (inputs, null, merge);
    }

    /// <summary>Without a tokenizer setting: embeddings of different sizes among a slice's sources cut as the method cuts them (or refused).</summary>
    private static (Dictionary<string, VocabularyInput>, VocabularyCut?, VocabularyMerge?) CutVocabularies(MergeConfig config, IReadOnlyList<ConfigSliceSource> bases,
        StoredModel reference, Func<ConfigModel, StoredModel> open, List<string> problems)
    {
        var slices = config.Slices!;
        (string, StoredModel, IReadOnlyList<(ConfigModel, StoredModel)>) Slice(int s) =>
            ($"the base source '{bases[s].Model.Reference}'", open(bases[s].Model),
             slices[s].Sources.Where(x => !ReferenceEquals(x, bases[s])).Select(x => (x.Model, open(x.Model))).ToList());
        var cut = VocabularyCut.PlanSlices(config.Method, (config.BaseModel is null ? $"the base source '{bases[0].Model.Reference}'" : "the base", reference),
            Slice(0), Slice(slices.Count - 1), IsBeforeLayers, problems);
        var inputs = new Dictionary<string, VocabularyInput>(StringComparer.Ordinal);
        foreach (var (index, beforeLayers) in new[] { (0, true), (slices.Count - 1, false) })
            foreach (var tensor in open(bases[index].Model).Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name) && IsBeforeLayers(t.Name) == beforeLayers && cut.Cuts(t.Name)))
            {
                // A cut reads the stored rows (the other sources' adapters are refused by the cut itself).
                if (bases[index].Model.LoraPath is not null)
                    problems.Add($"tensor '{tensor.Name}' has different numbers of rows in the sources of the slice at line {slices[index].Line}; cutting them with a LoRA adapter on '{bases[index].Model.Reference}' is not supported yet: give 'tokenizer_source' to map the vocabularies.");
                inputs[tensor.Name] = source => cut.Rows(open(source).Find(tensor.Name)!);
            }
        return (inputs, cut, null);
    }

    private static bool IsBeforeLayers(string name) => HuggingFaceNames.IsEmbedding(name) && !HuggingFaceNames.IsLmHead(name);

    /// <summary>One output tensor: the base source's tensor (layer <paramref name="offset"/> of its range, or a tensor outside the layers) merged with the other sources' same tensor.</summary>
    /// <param name="vocabularyInputs">The vocabulary tensors whose sources' vocabularies differ, mapped or cut (a tensor outside the layers keeps its name).</param>
    /// <param name="adapters">The adapters of the sources given as model+lora.</param>
    private static ITensorSource MergeTensor(MergeConfig config, ConfigSlice slice, ConfigSliceSource @base, string baseName, string outputName, int offset, double t,
        Func<ConfigModel, StoredModel> open, ConfigAdapters adapters, IReadOnlyDictionary<string, VocabularyInput> vocabularyInputs,
        List<string> problems)
    {
        bool inLayers = HuggingFaceNames.LayerNumber(baseName) is not null;
        VocabularyInput? reshaped = inLayers ? null : vocabularyInputs.GetValueOrDefault(baseName);
        string NameIn(ConfigSliceSource source) => inLayers ? HuggingFaceNames.WithLayerNumber(baseName, source.Start + offset) : baseName;
        ITensorSource Input(ConfigSliceSource source, StoredTensor stored) =>
            reshaped is not null ? reshaped(source.Model) : adapters.Tensor(source.Model, stored, outputName);
        var baseStored = open(@base.Model).Find(baseName)!;
        var baseSource = Input(@base, baseStored);
        if (!baseStored.Info.DType.IsComputable()) return baseSource;
        var method = config.Method;
        var others = slice.Sources.Where(s => !ReferenceEquals(s, @base) || method.BaseCountsAsModel).ToList();
        var globals = ConfigValue.ForTensor(config.Parameters, outputName, t);
        foreach (var (name, value) in ConfigValue.ForTensor(slice.Parameters, outputName, t)) globals[name] = value;
        if (method.ModelCount == 0) foreach (var (name, value) in ConfigValue.ForTensor(@base.Model.Parameters, outputName, t)) globals[name] = value;
        var vectors = new List<(ITensorSource Vector, Dictionary<string, object> Parameters, string Reference)>();
        foreach (var source in others)
        {
            var stored = open(source.Model).Find(NameIn(source));
            // The embeddings' shapes are the vocabulary's or the cut's to judge (refused there, or mapped or cut).
            if (stored is null || reshaped is null && !stored.Info.Shape.SequenceEqual(baseStored.Info.Shape))
            {
                if (stored is null || !HuggingFaceNames.IsEmbedding(baseName) || inLayers)
                    problems.Add($"model '{source.Model.Reference}': tensor '{NameIn(source)}' is {(stored is null ? "missing" : "of another shape")}, so it cannot merge into '{outputName}'.");
                continue;
            }
            var provenance = VectorProvenance.FromModels(open(@base.Model), open(source.Model));
            // A model's own values by its source tensor's name, as mergekit reads them (weight_in.name: the layer's
            // number in that model, not in the output).
            vectors.Add((new ChatVectorTensor(Input(source, stored), baseSource, provenance), ConfigValue.ForTensor(source.Model.Parameters, NameIn(source), t), source.Model.Reference));
        }
        try
        {
            var (merge, perModel) = method.CheckParameters(globals, vectors.Select(v => (IReadOnlyDictionary<string, object>?)v.Parameters).ToList(), vectors.Select(v => v.Reference).ToList());
            var outputDType = config.OutDType ?? config.DType ?? baseStored.Info.DType;
            return method.Merge(new MethodInputs(baseSource, vectors.Select((v, i) => new MethodVector(v.Vector, perModel[i])).ToList(), merge, outputDType, method.BaseCountsAsModel));
        }
        catch (MethodParameterException e)
        {
            problems.Add($"tensor '{outputName}': {e.Message}");
            return baseSource;
        }
    }

    private static StoredTensor Renamed(StoredTensor stored, string name) => stored.Name == name ? stored : stored with { Info = stored.Info with { Name = name } };

    private static int LayerCount(StoredModel model) =>
        model.Tensors.Select(t => HuggingFaceNames.LayerNumber(t.Name)).Where(n => n is not null).Select(n => n!.Value).DefaultIfEmpty(-1).Max() + 1;
}
