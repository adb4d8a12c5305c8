using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Config;

/// <summary>What a config merges: one lazy output per tensor of the base model, in its order; nothing computed yet.</summary>
/// <param name="ChatTemplateJson">The output's chat template as JSON text, when the config sets one; null keeps the base's.</param>
/// <param name="LayerCount">The output's layers when slices stack them (config.json's num_hidden_layers), else null.</param>
public sealed record ConfigPlan(MergeConfig Config, StoredModel Base, IReadOnlyList<ITensorSource> Outputs, IReadOnlyList<string> Notes,
    string? ChatTemplateJson = null, int? LayerCount = null);

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
        if (config.Slices is not null) return SliceMerge.Plan(config, problems, notes);
        if (config.BaseModel is null) return BaseFreeMerge.Plan(config, problems, notes);
        var @base = StoredModel.Open(config.BaseModel.Path);
        // mergekit lists the base among the models of a TIES or DARE config, often without parameters: its task vector
        // is zero and mergekit leaves it out; so does this.
        var merged = config.Models.Where(m => config.Method.BaseCountsAsModel || !SamePath(m.Path, @base.Path)).ToList();
        if (merged.Count < config.Models.Count) notes.Add("The base model listed among the models is left out: its task vector is zero.");
        // mergekit adds the base to the models when it is not listed; a method that merges it as one of them (karcher) gets it.
        if (config.Method.BaseCountsAsModel && !merged.Any(m => SamePath(m.Path, @base.Path)))
        {
            merged.Add(config.BaseModel with { Parameters = new Dictionary<string, ConfigValue>() });
            notes.Add("The base model is merged as one of the models, as mergekit adds it when the models do not list it.");
        }
        if (merged.Count == 0 && config.Method.MinimumModelCount > 0) problems.Add("no model other than the base to merge.");
        else if (config.Method.ModelCount is { } wanted && merged.Count != wanted)
            problems.Add($"{config.Method.Name} merges the base and {wanted} other model{(wanted == 1 ? "" : "s")}; the config gives {merged.Count}.");
        else if (merged.Count < config.Method.MinimumModelCount)
            problems.Add($"{config.Method.Name} merges the base and at least {config.Method.MinimumModelCount} other models; the config gives {merged.Count}.");
        var pairings = merged.Select(m => (Model: m, Pairing: ChatVectorPairing.Pair(@base, StoredModel.Open(m.Path), _ => true))).ToList();
        foreach (var (model, pairing) in pairings)
        {
            foreach (var mismatch in pairing.ShapeMismatches) problems.Add($"model '{model.Reference}': {mismatch}.");
            foreach (var name in pairing.OnlyInBase.Take(5)) problems.Add($"model '{model.Reference}' has no tensor '{name}' of the base.");
        }
        var vectorsByName = pairings.Select(p => p.Pairing.Vectors.ToDictionary(v => v.Name, v => (ITensorSource)v, StringComparer.Ordinal)).ToList();

        var layers = LayerPlaces.Of(@base.Tensors.Select(t => t.Name));
        var outputs = new List<ITensorSource>(@base.Tensors.Count);
        foreach (var stored in @base.Tensors)
        {
            var source = new StoredTensorSource(stored);
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
                    merged.Select(m => (IReadOnlyDictionary<string, object>?)ConfigValue.ForTensor(m.Parameters, stored.Name, t)).ToList());
            }
            catch (MethodParameterException e)
            {
                problems.Add($"tensor '{stored.Name}': {e.Message}");
                continue;
            }
            var vectors = new List<MethodVector>();
            for (int i = 0; i < vectorsByName.Count; i++)
                if (vectorsByName[i].TryGetValue(stored.Name, out var vector)) vectors.Add(new MethodVector(vector, perModel[i]));
            if (vectors.Count < vectorsByName.Count) continue; // reported above (the tensor is missing, or its shape differs)
            var outputDType = config.OutDType ?? config.DType ?? dtype;
            outputs.Add(config.Method.Merge(new MethodInputs(source, vectors, mergeParameters, outputDType)));
        }
        string? template = ChatTemplate(config, merged, notes, problems);
        if (problems.Count > 0) throw new MergeConfigException(config.SourcePath, problems);
        return new ConfigPlan(config, @base, outputs, notes, template);
    }

    /// <summary>The chat template as JSON text: the config's Jinja text, or with <c>auto</c> the one most merged models carry.</summary>
    internal static string? ChatTemplate(MergeConfig config, List<ConfigModel> merged, List<string> notes, List<string> problems)
    {
        if (config.ChatTemplate is null) return null;
        if (config.ChatTemplate != MergeConfig.AutoChatTemplate) return Newtonsoft.Json.JsonConvert.SerializeObject(config.ChatTemplate);
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


    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
