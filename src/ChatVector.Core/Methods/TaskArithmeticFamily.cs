using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's generalized task arithmetic: base + mix(sparsify(w_i·δ_i)). A method of the family declares which
/// sparsification rule it applies to each vector (none, or a <see cref="SparsifyMethod"/>), whether signs are elected
/// (<see cref="ConsensusMethod"/>), and its defaults; the rule's statistics and mask are the rule's file
/// (Sparsify/), the mix the shared kernels (Merge/Consensus, Kernels/MixKernels). The pipeline
/// <c>Limit-ChatVector | Add-ChatVector -Consensus -Normalize</c> composes the same parts.
/// </summary>
public abstract class TaskArithmeticFamily : MergeMethod
{
    /// <summary>The rule applied to each vector, or null for none.</summary>
    protected abstract SparsifyMethod? Sparsification { get; }

    protected abstract ConsensusMethod Consensus { get; }

    protected abstract bool NormalizeByDefault { get; }

    /// <summary>Whether the method takes mergekit's <c>lambda</c> (its generalized task arithmetic does; linear does not).</summary>
    protected virtual bool TakesLambda => true;

    public override VocabularyRowRule VocabularyRows => VocabularyRowRule.BaseRows;

    public override IReadOnlyList<MethodParameter> Parameters => _parameters ??= Declare().ToList();
    private IReadOnlyList<MethodParameter>? _parameters;

    private IEnumerable<MethodParameter> Declare()
    {
        yield return MethodParameter.Number("weight", null, ParameterScope.PerModel, "the model's vector's ratio");
        if (Sparsification is { } rule)
        {
            yield return MethodParameter.Number("density", 1.0, ParameterScope.PerModel, "the share of elements kept", 0, 1);
            if (rule == SparsifyMethod.Breadcrumbs)
                yield return MethodParameter.Number("gamma", SparsifyOptions.DefaultGamma, ParameterScope.PerModel, "the share of the largest magnitudes dropped", 0, 1);
            if (rule == SparsifyMethod.Della)
                yield return MethodParameter.Number("epsilon", SparsifyOptions.DefaultEpsilon, ParameterScope.PerModel, "half the spread of keep probabilities along a row's ranks", 0, 1);
            yield return MethodParameter.Boolean("rescale", SparsifyOptions.RescalesByDefault(rule), "divide kept elements by their keep probability");
            if (SparsifyOptions.Draws(rule))
                yield return MethodParameter.Integer("seed", 0, "the random draws' seed (the same seed, the same bytes)");
        }
        yield return MethodParameter.Boolean("normalize", NormalizeByDefault, "divide the mix by the sum of the weights that contributed");
        if (TakesLambda) yield return MethodParameter.Number("lambda", 1.0, ParameterScope.Merge, "the mix is multiplied by it before it is added to the base");
        yield return MethodParameter.Boolean("int8_mask", false, "mergekit's memory saving for its masks; accepted, changes nothing here");
    }

    public override ITensorSource Merge(MethodInputs inputs)
    {
        // Each model its own stream of draws (its place among the models), as mergekit draws a mask per model.
        var terms = inputs.Vectors.Select((v, i) => new VectorTerm(Sparsified(v, inputs.Parameters, i), v.Parameters.Number("weight"))).ToList();
        terms.AddRange(BaseTerms(inputs, terms));
        var mixing = new MixOptions(Consensus, inputs.Parameters.Boolean("normalize"), TakesLambda ? inputs.Parameters.Number("lambda") : 1.0);
        return new MergedTensor(inputs.Base, terms, [], inputs.OutputDType, mixing);
    }

    protected override string? ModelProblem(ParameterValues model) =>
        Sparsification == SparsifyMethod.Della ? SparsifyOptions.DellaRangeProblem(model.Number("density"), model.Number("epsilon")) : null;

    /// <summary>Terms of the base itself added to the mix (none for base + mix(…), the family's formula).</summary>
    protected virtual IEnumerable<VectorTerm> BaseTerms(MethodInputs inputs, IReadOnlyList<VectorTerm> vectorTerms) => [];

    private ITensorSource Sparsified(MethodVector vector, ParameterValues merge, int stream)
    {
        if (Sparsification is not { } rule) return vector.Vector;
        var p = vector.Parameters;
        var options = new SparsifyOptions(rule, p.Number("density"),
            rule == SparsifyMethod.Breadcrumbs ? p.Number("gamma") : SparsifyOptions.DefaultGamma,
            rule == SparsifyMethod.Della ? p.Number("epsilon") : SparsifyOptions.DefaultEpsilon,
            SparsifyOptions.Draws(rule) ? merge.Integer("seed") : 0, // only the drawing rules take a seed
            merge.Boolean("rescale"), RescaleNorm.L1, // mergekit rescales to the vector's L1 norm
            stream); // kept by the drawing rules only (SparsifyOptions.Canonical)
        return new SparsifiedTensor(vector.Vector, options);
    }
}
