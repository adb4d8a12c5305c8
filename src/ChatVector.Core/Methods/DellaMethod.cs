using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>della</c>: a keep probability rising with magnitude rank within each row, rescaled, signs elected, averaged.</summary>
public sealed class DellaMethod : TaskArithmeticFamily
{
    public override string Name => "della";
    public override string Description => "a keep probability rising with magnitude rank within each row, rescaled, signs elected, averaged";
    protected override SparsifyMethod? Sparsification => SparsifyMethod.Della;
    protected override ConsensusMethod Consensus => ConsensusMethod.Sum;
    protected override bool NormalizeByDefault => true;
}
