using ChatVector.Core.Format;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Methods;

/// <summary>
/// One merge method (one file each, registered in <see cref="MethodRegistry"/>): its mergekit name, the parameters it
/// takes, and how it makes one output tensor from the base's tensor and each model's task vector (model − base,
/// lazily). The tensor it returns is lazy too: whole-tensor statistics are gathered before its first chunk
/// (<see cref="IPrecomputed"/>), then each chunk is computed, as every tensor of an export is.
/// </summary>
public abstract class MergeMethod
{
    /// <summary>mergekit's <c>merge_method</c> name.</summary>
    public abstract string Name { get; }

    /// <summary>One line for help and errors.</summary>
    public abstract string Description { get; }

    public abstract IReadOnlyList<MethodParameter> Parameters { get; }

    /// <summary>How many models besides the base the method merges, when it takes a fixed number (slerp: one); null for any.</summary>
    public virtual int? ModelCount => null;

    /// <summary>The fewest models besides the base the method merges (model_stock: two).</summary>
    public virtual int MinimumModelCount => 1;

    /// <summary>
    /// The base listed among a config's models is one of the models merged (karcher: a mean of all the models), as a zero
    /// task vector; for the others (the task-arithmetic family, whose base's vector is zero anyway) it is left out.
    /// </summary>
    public virtual bool BaseCountsAsModel => false;

    /// <summary>
    /// The method also runs without a base model (mergekit's <c>linear</c>, <c>nuslerp</c>, <c>multislerp</c>, <c>karcher</c>):
    /// then it gets the models themselves as its vectors, over a base of zeros (<see cref="MethodInputs.WithoutBase"/>).
    /// </summary>
    public virtual bool BaseOptional => false;

    /// <summary>
    /// What the method does, as mergekit's does, with embeddings and LM heads whose numbers of rows (vocabulary sizes) differ
    /// between the models when no tokenizer setting maps the vocabularies.
    /// </summary>
    public virtual VocabularyRowRule VocabularyRows => VocabularyRowRule.Refused;

    /// <summary>
    /// How many models the method takes when <paramref name="given"/> (besides the base) does not suit it: exactly
    /// <see cref="ModelCount"/>, or at least <see cref="MinimumModelCount"/> (and at least <paramref name="fewest"/>); null
    /// when it does. Each caller words the problem for its own input (a config's models, the pipeline's vectors).
    /// </summary>
    public (int Count, bool Exactly)? ModelCountProblem(int given, int fewest = 0)
    {
        if (ModelCount is { } wanted) return given == wanted ? null : (wanted, true);
        int minimum = Math.Max(fewest, MinimumModelCount);
        return given < minimum ? (minimum, false) : null;
    }

    /// <summary>The merged tensor for <paramref name="inputs"/> (parameters already checked, <see cref="CheckParameters"/>).</summary>
    public abstract ITensorSource Merge(MethodInputs inputs);

    /// <summary>The merge-wide values and each model's (which default to the merge-wide values given for per-model parameters), checked.</summary>
    /// <param name="modelNames">How errors name each model (a config's reference); "model 1", "model 2", … when null.</param>
    /// <param name="combinations">Whether to check values together (<see cref="ModelProblem"/>): not for a config's first
    /// values of each parameter, which may never meet in one tensor; its tensors are checked one by one.</param>
    public (ParameterValues Merge, IReadOnlyList<ParameterValues> PerModel) CheckParameters(IReadOnlyDictionary<string, object>? mergeValues,
        IReadOnlyList<IReadOnlyDictionary<string, object>?> modelValues, IReadOnlyList<string>? modelNames = null, bool combinations = true)
    {
        var given = Taken(mergeValues);
        var perModelDefaults = given.Where(p => Parameters.Any(d => d.Name == p.Key && d.Scope == ParameterScope.PerModel))
            .ToDictionary(p => p.Key, p => p.Value);
        var mergeOnly = given.Where(p => !perModelDefaults.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        var merge = ParameterValues.Check(Parameters, mergeOnly, $"method '{Name}'", ParameterScope.Merge);
        var perModel = modelValues.Select((values, i) =>
        {
            string where = $"method '{Name}', model {(modelNames is null ? (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"'{modelNames[i]}'")}";
            var checkedValues = ParameterValues.Check(Parameters, Taken(values), where, ParameterScope.PerModel, perModelDefaults);
            return combinations && ModelProblem(checkedValues) is { } problem ? throw new MethodParameterException($"{where}: {problem}") : checkedValues;
        }).ToList();
        return (merge, perModel);
    }

    /// <summary>Why one model's values, each within its range, cannot go together (DELLA's density ± epsilon), or null.</summary>
    protected virtual string? ModelProblem(ParameterValues model) => null;

    /// <summary>
    /// A parameter of another method that this one does not take (a <c>weight</c> given to slerp's models): mergekit passes
    /// such values and its method never reads them, so configs written for it carry them; they are ignored here too. A name no
    /// method takes (a typo) is still refused.
    /// </summary>
    public bool Ignores(string name) =>
        Parameters.All(p => p.Name != name) && MethodRegistry.All.Any(m => m.Parameters.Any(p => p.Name == name));

    private IReadOnlyDictionary<string, object> Taken(IReadOnlyDictionary<string, object>? values) =>
        values is null ? new Dictionary<string, object>() : values.Where(p => !Ignores(p.Key)).ToDictionary(p => p.Key, p => p.Value);
}

/// <summary>How a method takes embedding and LM-head tensors of different vocabulary sizes (see <see cref="MergeMethod.VocabularyRows"/>).</summary>
public enum VocabularyRowRule
{
    /// <summary>
    /// Not merged: mergekit's method has no rule for them and fails on the shapes (karcher calls rectify_embed_sizes on
    /// pairs of a temporary list, so its tensors stay uncut and the mean fails too).
    /// </summary>
    Refused,
    /// <summary>The rows every input has, 0 to the fewest: mergekit's <c>rectify_embed_sizes</c> (linear, slerp, nuslerp, model_stock, arcee_fusion).</summary>
    CommonRows,
    /// <summary>
    /// Each model's rows cut to the base's number (mergekit's task-arithmetic family, in <c>get_task_vectors</c>); a model with
    /// fewer rows than the base cannot be cut to them and is refused (mergekit fails subtracting the shapes).
    /// </summary>
    BaseRows,
}

/// <summary>One model's task vector for a tensor (model − base) and its checked per-model parameters.</summary>
public sealed record MethodVector(ITensorSource Vector, ParameterValues Parameters);

/// <summary>What a method merges for one tensor name: the base's tensor, the vectors, the merge-wide parameters, the output dtype.</summary>
/// <param name="BaseAmongModels">
/// True when the base is one of the models merged (a config's base for <see cref="MergeMethod.BaseCountsAsModel"/>, its
/// vector among <paramref name="Vectors"/>); false when it is only the reference the vectors were taken against (the
/// pipeline's -Model).
/// </param>
public sealed record MethodInputs(ITensorSource Base, IReadOnlyList<MethodVector> Vectors, ParameterValues Parameters, DType OutputDType, bool BaseAmongModels = false)
{
    /// <summary>
    /// The inputs of a merge without a base model: each model's tensor is its own vector over a base of zeros (named and
    /// shaped as the first model's tensor), so base + f(δ) is f(models), as mergekit computes it without <c>base_model</c>.
    /// </summary>
    public static MethodInputs WithoutBase(IReadOnlyList<MethodVector> models, ParameterValues parameters, DType outputDType)
    {
        var first = models[0].Vector;
        return new MethodInputs(new ZeroTensorSource(first.Name, first.DType, first.Shape), models, parameters, outputDType);
    }
}
