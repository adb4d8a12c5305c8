using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>breadcrumbs_ties</c>: Breadcrumbs' trim, then TIES' sign election.</summary>
public sealed class BreadcrumbsTiesMethod : TaskArithmeticFamily
{
    public override string Name => "breadcrumbs_ties";
    public override string Description => "Breadcrumbs' trim, then TIES' sign election";
    protected override SparsifyMethod? Sparsification => SparsifyMethod.Breadcrumbs;
    protected override ConsensusMethod Consensus => ConsensusMethod.Sum;
    protected override bool NormalizeByDefault => false;
}
