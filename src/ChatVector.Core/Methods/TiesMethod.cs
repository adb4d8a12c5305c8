using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>ties</c>: each δ trimmed to its largest magnitudes, signs elected by Σ w·δ, the agreeing w·δ averaged.</summary>
public sealed class TiesMethod : TaskArithmeticFamily
{
    public override string Name => "ties";
    public override string Description => "each δ trimmed to its largest magnitudes, signs elected by Σ w·δ, the agreeing w·δ averaged";
    protected override SparsifyMethod? Sparsification => SparsifyMethod.Magnitude;
    protected override ConsensusMethod Consensus => ConsensusMethod.Sum;
    protected override bool NormalizeByDefault => true;
}
