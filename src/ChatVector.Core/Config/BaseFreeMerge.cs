using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Config;

/// <summary>
/// Plans a config without <c>base_model</c>, for the methods that run without one (<see cref="MergeMethod.BaseOptional"/>:
/// <c>linear</c>, <c>nuslerp</c>, <c>multislerp</c>, <c>karcher</c>): each tensor of the first model, in its order, is merged
/// from the same-named tensor of every model, each model its own vector over a base of zeros
/// (<see cref="MethodInputs.WithoutBase"/>). The first model also gives the output its config and tokenizer, as in mergekit;
/// a tokenizer setting maps every model's embedding rows onto its vocabulary (<see cref="VocabularyMerge"/>).
/// Every tensor missing from a model, or shaped or typed otherwise, is reported at once, before any tensor is read.
/// </summary>
internal static class BaseFreeMerge
{
    public static ConfigPlan Plan(MergeConfig config, List<string> problems, List<string> notes, List<string> warnings)
    {
        var method = config.Method;
        var models = config.Models;
        if (method.ModelCountProblem(models.Count, fewest: 1) is { } wanted)
            problems.Add(wanted.Exactly
                ? $"{method.Name} merges {wanted.Count} model{(wanted.Count == 1 ? "" : "s")}; the config gives {models.Count}."
                : $"{method.Name} merges at least {wanted.Count} models; the config gives {models.Count}.");
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems);

        var opened = models.Select(m => StoredModel.Open(m.Path)).ToList();
        var template = opened[0];
        var tensorsByName = opened.Select(m => m.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal)).ToList();
        string? chatTemplate = ConfigMerge.ChatTemplate(config, models.ToList(), notes, problems);
        // With a tokenizer setting, embeddings of other vocabulary sizes are mapped onto the output's vocabulary (the
        // first model's for 'base'); without one they are cut to rows every model has, as mergekit's method does (or refused).
        var vocabulary = config.Tokenizer is { } settings
            ? VocabularyMerge.Create(settings, models.Select((m, i) => (m, opened[i])).ToList(), chatTemplate, problems, firstIsBase: false)
            : null;
        var cut = vocabulary is null
            ? VocabularyCut.Plan(method, ($"the first model '{models[0].Reference}'", template), models.Skip(1).Select((m, i) => (m, opened[i + 1])).ToList(), problems)
            : null;
        bool Reshaped(string name) => HuggingFaceNames.IsEmbedding(name) && (vocabulary is not null || cut!.Cuts(name));
        // Models given as model+lora: the adapter applied to the tensors it touches (a cut reads the stored rows, which
        // would leave an adapter's change to them out).
        var adapters = ConfigAdapters.Open(models, m => opened[Enumerable.Range(0, models.Count).First(i => models[i].Path == m.Path)], problems, warnings);
        foreach (var model in models)
            foreach (var name in adapters.Touched(model).Where(n => cut is not null && cut.Cuts(n)).Distinct())
                problems.Add($"tensor '{name}' has different numbers of rows in the models; cutting them with a LoRA adapter on '{model.Reference}' is not supported yet: give 'tokenizer_source' to map the vocabularies.");
        var layers = LayerPlaces.Of(template.Tensors.Select(t => t.Name));
        var outputs = new List<ITensorSource>(template.Tensors.Count);
        foreach (var stored in template.Tensors)
        {
            var dtype = stored.Info.DType;
            if (!dtype.IsComputable())
            {
                outputs.Add(new StoredTensorSource(stored)); // integer buffers pass through, as in every merge
                continue;
            }
            var sources = new List<ITensorSource>(models.Count);
            // A mapped tensor reads every model's rows at once: each model must have it (the loop names those that do not).
            bool mappable = vocabulary is null || tensorsByName.All(t => t.ContainsKey(stored.Name));
            for (int i = 0; i < models.Count; i++)
            {
                if (!tensorsByName[i].TryGetValue(stored.Name, out var other))
                    problems.Add($"model '{models[i].Reference}' has no tensor '{stored.Name}' of the first model '{models[0].Reference}'.");
                else if (!Reshaped(stored.Name) && !other.Info.Shape.SequenceEqual(stored.Info.Shape))
                {
                    // The embeddings' shapes are the vocabulary's or the cut's to judge (refused there, or mapped or cut).
                    if (!HuggingFaceNames.IsEmbedding(stored.Name))
                        problems.Add($"model '{models[i].Reference}': tensor '{stored.Name}' is [{string.Join(", ", other.Info.Shape)}] where the first model's is [{string.Join(", ", stored.Info.Shape)}].");
                }
                else if (!other.Info.DType.IsComputable())
                    problems.Add($"model '{models[i].Reference}': tensor '{stored.Name}' is {other.Info.DType}, which cannot be merged.");
                else if (!Reshaped(stored.Name)) sources.Add(adapters.Tensor(models[i], other, stored.Name));
                else if (vocabulary is null) sources.Add(cut!.Rows(other));
                else if (mappable) sources.Add(vocabulary.Tensor(stored.Name, i, config.DType));
            }
            if (sources.Count < models.Count) continue;
            double t = layers.PlaceOf(stored.Name);
            ParameterValues mergeParameters;
            IReadOnlyList<ParameterValues> perModel;
            try
            {
                (mergeParameters, perModel) = method.CheckParameters(ConfigValue.ForTensor(config.Parameters, stored.Name, t),
                    models.Select(m => (IReadOnlyDictionary<string, object>?)ConfigValue.ForTensor(m.Parameters, stored.Name, t)).ToList(),
                    models.Select(m => m.Reference).ToList());
            }
            catch (MethodParameterException e)
            {
                problems.Add($"tensor '{stored.Name}': {e.Message}");
                continue;
            }
            var vectors = sources.Select((source, i) => new MethodVector(source, perModel[i])).ToList();
            outputs.Add(method.Merge(MethodInputs.WithoutBase(vectors, mergeParameters, config.OutDType ?? config.DType ?? dtype)));
        }
        for (int i = 1; i < models.Count; i++)
            foreach (var extra in opened[i].Tensors.Where(t => !tensorsByName[0].ContainsKey(t.Name)).Take(5))
                problems.Add($"model '{models[i].Reference}' has a tensor '{extra.Name}' the first model '{models[0].Reference}' lacks.");
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems);
        if (vocabulary is not null)
        {
            notes.Add($"No base_model: {method.Name} of the {models.Count} models themselves; config from the first, '{models[0].Reference}'.");
            notes.Add($"{config.Tokenizer!.Key}: {vocabulary.Plan.OutputRows} vocabulary rows (the first model has {template.Tensors.First(t => HuggingFaceNames.IsEmbedding(t.Name)).Info.Shape[0]}).");
            return new ConfigPlan(config, template, outputs, notes, null, Tokenizer: vocabulary.Tokenizer, Warnings: warnings);
        }
        notes.Add($"No base_model: {method.Name} of the {models.Count} models themselves; config and tokenizer from the first, '{models[0].Reference}'.");
        return new ConfigPlan(config, template, outputs, notes, chatTemplate, VocabSize: cut!.VocabSize, Warnings: [.. cut.Warnings ?? [], .. warnings]);
    }
}
