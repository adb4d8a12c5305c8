using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>della_linear</c>: DELLA's keep by row rank, rescaled, summed.</summary>
public sealed class DellaLinearMethod : TaskArithmeticFamily
{
    public override string Name => "della_linear";
    public override string Description => "DELLA's keep by row rank, rescaled, summed";
    protected override SparsifyMethod? Sparsification => SparsifyMethod.Della;
    protected override ConsensusMethod Consensus => ConsensusMethod.None;
    protected override bool NormalizeByDefault => false;
}
