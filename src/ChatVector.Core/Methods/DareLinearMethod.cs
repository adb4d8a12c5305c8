using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>dare_linear</c>: each δ's elements kept at random with probability density, rescaled, summed.</summary>
public sealed class DareLinearMethod : TaskArithmeticFamily
{
    public override string Name => "dare_linear";
    public override string Description => "each δ's elements kept at random with probability density, rescaled, summed";
    protected override SparsifyMethod? Sparsification => SparsifyMethod.Random;
    protected override ConsensusMethod Consensus => ConsensusMethod.None;
    protected override bool NormalizeByDefault => false;
}
