using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>dare_ties</c>: DARE's random keep, rescaled, then TIES' sign election.</summary>
public sealed class DareTiesMethod : TaskArithmeticFamily
{
    public override string Name => "dare_ties";
    public override string Description => "DARE's random keep, rescaled, then TIES' sign election";
    protected override SparsifyMethod? Sparsification => SparsifyMethod.Random;
    protected override ConsensusMethod Consensus => ConsensusMethod.Sum;
    protected override bool NormalizeByDefault => false;
}
