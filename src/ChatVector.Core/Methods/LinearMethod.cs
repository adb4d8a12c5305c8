using ChatVector.Core.Merge;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>linear</c>: Σ wᵢ·xᵢ / Σ wᵢ, that is base + Σ wᵢ·δᵢ / Σ wᵢ.</summary>
public sealed class LinearMethod : TaskArithmeticFamily
{
    public override string Name => "linear";
    public override bool BaseOptional => true;
    // mergekit's linear takes the common rows of every model (base included), not the base's rows as the rest of the family.
    public override VocabularyRowRule VocabularyRows => VocabularyRowRule.CommonRows;
    public override string Description => "Σ wᵢ·xᵢ / Σ wᵢ, that is base + Σ wᵢ·δᵢ / Σ wᵢ";
    protected override Sparsify.SparsifyMethod? Sparsification => null;
    protected override ConsensusMethod Consensus => ConsensusMethod.None;
    protected override bool NormalizeByDefault => true;
}
