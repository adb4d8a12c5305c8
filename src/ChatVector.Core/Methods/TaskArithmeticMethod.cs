using ChatVector.Core.Merge;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>task_arithmetic</c>: base + Σ wᵢ·δᵢ.</summary>
public sealed class TaskArithmeticMethod : TaskArithmeticFamily
{
    public override string Name => "task_arithmetic";
    public override string Description => "base + Σ wᵢ·δᵢ";
    protected override Sparsify.SparsifyMethod? Sparsification => null;
    protected override ConsensusMethod Consensus => ConsensusMethod.None;
    protected override bool NormalizeByDefault => false;
}
