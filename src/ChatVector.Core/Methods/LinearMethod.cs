using ChatVector.Core.Merge;

namespace ChatVector.Core.Methods;

/// <summary>
/// mergekit's <c>linear</c>: Σ wᵢ·xᵢ / Σ wᵢ over the models, that is base + Σ wᵢ·δᵢ / Σ wᵢ for any base the xᵢ = base + δᵢ
/// are taken against; without normalizing Σ wᵢ·xᵢ = (Σ wᵢ)·base + Σ wᵢ·δᵢ. mergekit merges a <c>base_model</c> as one of
/// the models (it adds it to them when they do not list it, with the global weight, and fails without one): so does this,
/// its δ zero and its weight counted.
/// </summary>
public sealed class LinearMethod : TaskArithmeticFamily
{
    public override string Name => "linear";
    public override bool BaseOptional => true;
    public override bool BaseCountsAsModel => true;
    // mergekit's linear takes the common rows of every model (base included), not the base's rows as the rest of the family.
    public override VocabularyRowRule VocabularyRows => VocabularyRowRule.CommonRows;
    public override string Description => "Σ wᵢ·xᵢ / Σ wᵢ, that is base + Σ wᵢ·δᵢ / Σ wᵢ";
    protected override Sparsify.SparsifyMethod? Sparsification => null;
    protected override ConsensusMethod Consensus => ConsensusMethod.None;
    protected override bool NormalizeByDefault => true;
    protected override bool TakesLambda => false; // mergekit's linear has no lambda

    /// <summary>Without normalizing, (Σ wᵢ − 1)·base more than the family's base + Σ wᵢ·δᵢ, when the base is one of the models.</summary>
    protected override IEnumerable<VectorTerm> BaseTerms(MethodInputs inputs, IReadOnlyList<VectorTerm> vectorTerms)
    {
        double total = vectorTerms.Sum(t => t.Ratio);
        // Only where the base is one of the models (a config's): the pipeline's -Model is the vectors' reference, not a model.
        if (!inputs.BaseAmongModels || inputs.Parameters.Boolean("normalize") || total == 1) yield break;
        yield return new VectorTerm(inputs.Base, total - 1);
    }
}
