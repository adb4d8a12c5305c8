using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Config;

/// <summary>One vector from the pipeline: its values, its own ratio when it carries one, and where it came from.</summary>
public sealed record PipelineVector(ITensorSource Vector, double? Ratio, VectorProvenance? Provenance);

/// <summary>
/// What <c>Merge-ChatVector</c> was asked: a mergekit method applied to the vectors on the pipeline over a base model.
/// </summary>
/// <param name="Parameters">Merge-wide values, and defaults for every model's per-model values (as mergekit's global <c>parameters</c>).</param>
/// <param name="ModelParameters">Each model's own values, in the order its vectors first arrived.</param>
public sealed record MethodMergeRequest(
    StoredModel Base,
    MergeMethod Method,
    IReadOnlyList<PipelineVector> Vectors,
    IReadOnlyDictionary<string, object>? Parameters,
    IReadOnlyList<IReadOnlyDictionary<string, object>?> ModelParameters,
    DType? OutputDType);

/// <summary>
/// Plans a merge method over vectors from the pipeline, as <see cref="ConfigMerge"/> does over a config's models:
/// the vectors are grouped into models by where they came from (base, chat model and sparsification), each base tensor
/// gets the method's output of every model's vector of that name (a model without one contributes zeros, as an adapter
/// that leaves a layer alone does), and tensors no vector touches pass through as stored. Every problem is found before
/// any tensor is read.
/// </summary>
public static class PipelineMethodMerge
{
    /// <summary>The per-model parameter a vector's own ratio (<c>Get-ChatVector -Ratio</c>) stands for when not given.</summary>
    public const string WeightParameter = "weight";

    public static MergePlan Plan(MethodMergeRequest request)
    {
        var problems = new List<string>();
        var notes = new List<string>();
        var method = request.Method;
        var models = GroupIntoModels(request.Vectors, problems);
        CheckModelCount(method, models.Count, request.ModelParameters.Count, problems);

        // A method that merges the base as one of its models (linear, karcher) gets -Model as the last model, with the
        // global values, as mergekit adds a config's base_model: the same bytes as that config.
        bool baseIsModel = method.BaseCountsAsModel;
        var modelValues = models.Select((m, i) => WithRatioAsWeight(request.ModelParameters.ElementAtOrDefault(i), m, method)).ToList();
        if (baseIsModel) modelValues.Add(null);
        ParameterValues mergeValues = null!;
        IReadOnlyList<ParameterValues> perModel = [];
        try
        {
            (mergeValues, perModel) = method.CheckParameters(request.Parameters, modelValues, baseIsModel
                ? [.. models.Select(m => OriginText(m.Provenance)), request.Base.Path]
                : null);
        }
        catch (MethodParameterException e)
        {
            problems.Add(baseIsModel && e.Message.Contains($"'{request.Base.Path}'", StringComparison.Ordinal)
                ? $"{e.Message} -Model is one of {method.Name}'s models, as mergekit merges a config's base_model: its values come from -Parameter (for example @{{ weight = 1 }})."
                : e.Message);
        }

        var unused = request.Vectors.Select(v => v.Vector.Name).Distinct(StringComparer.Ordinal).Where(n => request.Base.Find(n) is null).ToList();
        var outputs = new List<ITensorSource>(request.Base.Tensors.Count);
        foreach (var stored in request.Base.Tensors)
        {
            var source = new StoredTensorSource(stored);
            var given = models.Select(m => m.Vectors.GetValueOrDefault(stored.Name)).ToList();
            var outputDType = request.OutputDType is { } wanted && stored.Info.DType.IsComputable() ? wanted : stored.Info.DType;
            if (given.All(v => v is null))
            {
                // Untouched: as stored, or converted to the asked dtype with one rounding, as Add-ChatVector converts it.
                outputs.Add(outputDType == stored.Info.DType ? source : new MergedTensor(source, [], [], outputDType));
                continue;
            }
            if (!CanMerge(stored, given, problems) || problems.Count > 0) continue;
            var vectors = given.Select((v, i) => new MethodVector(v?.Vector ?? new ZeroTensorSource(stored.Name, DType.F32, stored.Info.Shape), perModel[i])).ToList();
            if (baseIsModel) vectors.Add(new MethodVector(new ZeroTensorSource(stored.Name, DType.F32, stored.Info.Shape), perModel[^1])); // the base: δ = 0
            outputs.Add(method.Merge(new MethodInputs(source, vectors, mergeValues, outputDType, baseIsModel)));
        }
        if (problems.Count == 0)
            notes.Add($"{method.Name} of {models.Count} model(s) onto {request.Base.Path}: {outputs.Count(o => o is not StoredTensorSource)} of {outputs.Count} tensors merged.");
        var recipe = RecipeOf(request, models, mergeValues, perModel);
        return new MergePlan(outputs, notes, unused, problems, recipe, []);
    }

    /// <summary>One model's vectors by tensor name, and where they came from.</summary>
    private sealed record PipelineModel(VectorProvenance? Provenance, double? Ratio, Dictionary<string, PipelineVector> Vectors);

    /// <summary>
    /// Vectors grouped by their origin (base, chat model, sparsification), in the order each origin first arrived: the
    /// handles of one <c>Get-ChatVector</c> (or one <c>Limit-ChatVector</c> of it) are one model.
    /// </summary>
    private static List<PipelineModel> GroupIntoModels(IReadOnlyList<PipelineVector> vectors, List<string> problems)
    {
        var models = new List<PipelineModel>();
        var byOrigin = new Dictionary<(string?, string?, string?), PipelineModel>();
        foreach (var vector in vectors)
        {
            var origin = (vector.Provenance?.BaseModel, vector.Provenance?.ChatModel, vector.Provenance?.Sparsification);
            if (!byOrigin.TryGetValue(origin, out var model))
            {
                model = new PipelineModel(vector.Provenance, vector.Ratio, new Dictionary<string, PipelineVector>(StringComparer.Ordinal));
                byOrigin[origin] = model;
                models.Add(model);
            }
            if (!model.Vectors.TryAdd(vector.Vector.Name, vector))
                problems.Add($"'{vector.Vector.Name}' arrived twice from {OriginText(vector.Provenance)}: each model gives a tensor's vector once (pipe one Get-ChatVector per model).");
        }
        return models;
    }

    private static void CheckModelCount(MergeMethod method, int models, int modelParameters, List<string> problems)
    {
        if (models == 0) problems.Add($"no vector arrived on the pipeline: {method.Name} merges the vectors of at least one model.");
        else if (method.ModelCountProblem(models) is { } wanted)
            problems.Add(wanted.Exactly
                ? $"{method.Name} merges {wanted.Count} model{(wanted.Count == 1 ? "" : "s")}' vector{(wanted.Count == 1 ? "" : "s")} onto the base; {models} arrived."
                : $"{method.Name} merges at least {wanted.Count} models' vectors onto the base; {models} arrived.");
        if (modelParameters > models)
            problems.Add($"-ModelParameter gives {modelParameters} models' values; {models} model(s) arrived on the pipeline.");
    }

    /// <summary>A vector's own ratio is its model's <c>weight</c> when the method takes one and it was not given otherwise.</summary>
    private static IReadOnlyDictionary<string, object>? WithRatioAsWeight(IReadOnlyDictionary<string, object>? given, PipelineModel model, MergeMethod method)
    {
        if (model.Ratio is not { } ratio || given?.ContainsKey(WeightParameter) == true
            || !method.Parameters.Any(p => p.Name == WeightParameter && p.Scope == ParameterScope.PerModel))
            return given;
        var values = given?.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal) ?? new Dictionary<string, object>(StringComparer.Ordinal);
        values[WeightParameter] = ratio;
        return values;
    }

    private static bool CanMerge(StoredTensor stored, List<PipelineVector?> given, List<string> problems)
    {
        if (!stored.Info.DType.IsComputable())
        {
            problems.Add($"'{stored.Name}': the base's tensor is {stored.Info.DType}; only F16, BF16, F32 and F64 tensors merge.");
            return false;
        }
        foreach (var vector in given.OfType<PipelineVector>().Where(v => !v.Vector.Shape.SequenceEqual(stored.Info.Shape)))
        {
            problems.Add($"'{stored.Name}': the vector from {OriginText(vector.Provenance)} is [{string.Join(", ", vector.Vector.Shape)}], the base's tensor [{string.Join(", ", stored.Info.Shape)}].");
            return false;
        }
        return true;
    }

    private static string OriginText(VectorProvenance? provenance) =>
        provenance is null ? "a vector without provenance" : $"{provenance.ChatModel} − {provenance.BaseModel}";

    private static MergeRecipe RecipeOf(MethodMergeRequest request, List<PipelineModel> models, ParameterValues? mergeValues, IReadOnlyList<ParameterValues> perModel)
    {
        var vectors = models.Select(m => new RecipeVector(m.Provenance?.BaseModel, m.Provenance?.ChatModel, m.Ratio ?? 1.0, m.Vectors.Count, m.Provenance?.Sparsification)).ToList();
        var parameters = new JObject
        {
            ["merge"] = ToJson(mergeValues?.All),
            ["models"] = new JArray(perModel.Take(models.Count).Select(p => ToJson(p.All))),
        };
        // linear and karcher merge -Model as one more model: its values are part of the recipe.
        if (request.Method.BaseCountsAsModel && perModel.Count > models.Count) parameters["base_as_model"] = ToJson(perModel[^1].All);
        return new MergeRecipe(request.Base.Path, vectors, false, new Dictionary<long, long>(), request.OutputDType,
            models.Select(m => m.Provenance).LastOrDefault(p => p is not null), [])
        {
            Method = request.Method.Name,
            MethodParameters = parameters,
        };
    }

    private static JObject ToJson(IReadOnlyDictionary<string, object>? values) =>
        new((values ?? new Dictionary<string, object>()).OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new JProperty(p.Key, JToken.FromObject(p.Value))));
}
