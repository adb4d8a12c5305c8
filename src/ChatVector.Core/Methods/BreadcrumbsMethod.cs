using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Methods;

/// <summary>mergekit's <c>breadcrumbs</c>: each δ without its largest (gamma) and smallest magnitudes, so that density stay, summed.</summary>
public sealed class BreadcrumbsMethod : TaskArithmeticFamily
{
    public override string Name => "breadcrumbs";
    public override string Description => "each δ without its largest (gamma) and smallest magnitudes, so that density stay, summed";
    protected override SparsifyMethod? Sparsification => SparsifyMethod.Breadcrumbs;
    protected override ConsensusMethod Consensus => ConsensusMethod.None;
    protected override bool NormalizeByDefault => false;
}
