using ChatVector.Core.Format;
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
/// renamed without a copy: a layer passed through keeps its bytes.
/// </summary>
internal static class SliceMerge
{
    public static ConfigPlan Plan(MergeConfig config, List<string> problems, List<string> notes)
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
                : slice.Sources.FirstOrDefault(s => config.BaseModel is { } b && s.Model.Path == b.Path);
            if (@base is null)
                problems.Add(method.ModelCount == 0
                    ? $"slice at line {slice.Line}: {method.Name} takes one source per slice; it has {slice.Sources.Count}."
                    : $"slice at line {slice.Line}: no source is the base_model; {method.Name} merges each source's task vector against the base.");
            bases.Add(@base);
        }
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems);

        var outputs = new List<ITensorSource>();
        var first = Open(bases[0]!.Model);
        var last = Open(bases[^1]!.Model);
        var reference = config.BaseModel is { } baseModel ? Open(baseModel) : first;
        // Before the layers: the input embedding, from the first slice.
        foreach (var stored in first.Tensors.Where(t => HuggingFaceNames.LayerNumber(t.Name) is null && IsBeforeLayers(t.Name)))
            outputs.Add(MergeTensor(config, slices[0], bases[0]!, stored.Name, stored.Name, 0, 0, Open, problems));
        int outputLayer = 0;
        for (int s = 0; s < slices.Count; s++)
        {
            var slice = slices[s];
            var @base = bases[s]!;
            for (int i = 0; i < @base.Length; i++, outputLayer++)
            {
                double t = @base.Length > 1 ? (double)i / (@base.Length - 1) : 0;
                foreach (var stored in Open(@base.Model).Tensors.Where(x => HuggingFaceNames.LayerNumber(x.Name) == @base.Start + i))
                    outputs.Add(MergeTensor(config, slice, @base, stored.Name, HuggingFaceNames.WithLayerNumber(stored.Name, outputLayer), i, t, Open, problems));
            }
        }
        // After the layers: the final norm and the LM head, from the last slice.
        foreach (var stored in last.Tensors.Where(t => HuggingFaceNames.LayerNumber(t.Name) is null && !IsBeforeLayers(t.Name)))
            outputs.Add(MergeTensor(config, slices[^1], bases[^1]!, stored.Name, stored.Name, 0, 0, Open, problems));
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems);
        notes.Add($"{slices.Count} slice(s): {outputLayer} layers.");
        return new ConfigPlan(config, reference, outputs, notes, LayerCount: outputLayer);
    }

    private static bool IsBeforeLayers(string name) => HuggingFaceNames.IsEmbedding(name) && !HuggingFaceNames.IsLmHead(name);

    /// <summary>One output tensor: the base source's tensor (layer <paramref name="offset"/> of its range, or a tensor outside the layers) merged with the other sources' same tensor.</summary>
    private static ITensorSource MergeTensor(MergeConfig config, ConfigSlice slice, ConfigSliceSource @base, string baseName, string outputName, int offset, double t,
        Func<ConfigModel, StoredModel> open, List<string> problems)
    {
        bool inLayers = HuggingFaceNames.LayerNumber(baseName) is not null;
        string NameIn(ConfigSliceSource source) => inLayers ? HuggingFaceNames.WithLayerNumber(baseName, source.Start + offset) : baseName;
        var baseStored = open(@base.Model).Find(baseName)!;
        var baseSource = new StoredTensorSource(Renamed(baseStored, outputName));
        if (!baseStored.Info.DType.IsComputable()) return baseSource;
        var method = config.Method;
        var others = slice.Sources.Where(s => !ReferenceEquals(s, @base) || method.BaseCountsAsModel).ToList();
        var globals = ConfigValue.ForTensor(config.Parameters, outputName, t);
        foreach (var (name, value) in ConfigValue.ForTensor(slice.Parameters, outputName, t)) globals[name] = value;
        if (method.ModelCount == 0) foreach (var (name, value) in ConfigValue.ForTensor(@base.Model.Parameters, outputName, t)) globals[name] = value;
        var vectors = new List<(ITensorSource Vector, Dictionary<string, object> Parameters)>();
        foreach (var source in others)
        {
            var stored = open(source.Model).Find(NameIn(source));
            if (stored is null || !stored.Info.Shape.SequenceEqual(baseStored.Info.Shape))
            {
                problems.Add($"model '{source.Model.Reference}': tensor '{NameIn(source)}' is {(stored is null ? "missing" : "of another shape")}, so it cannot merge into '{outputName}'.");
                continue;
            }
            var provenance = VectorProvenance.FromModels(open(@base.Model), open(source.Model));
            vectors.Add((new ChatVectorTensor(new StoredTensorSource(Renamed(stored, outputName)), baseSource, provenance), ConfigValue.ForTensor(source.Model.Parameters, outputName, t)));
        }
        try
        {
            var (merge, perModel) = method.CheckParameters(globals, vectors.Select(v => (IReadOnlyDictionary<string, object>?)v.Parameters).ToList());
            var outputDType = config.OutDType ?? config.DType ?? baseStored.Info.DType;
            return method.Merge(new MethodInputs(baseSource, vectors.Select((v, i) => new MethodVector(v.Vector, perModel[i])).ToList(), merge, outputDType));
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
