using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// DARE (<see cref="SparsifyMethod.Random"/>): each element stays independently with probability density, its draw
/// from <see cref="CounterRandom"/> at its flat index, divided by the density when rescaling. No statistics.
/// Mask: <see cref="DareKernel"/>.
/// </summary>
internal sealed class RandomDrop(SparsifyOptions options, SparsifyTarget target) : ISparsifyRule
{
    private readonly CounterRandom _random = new(options.Seed, target.Name, options.Stream);

    public bool RanksRows => false;
    public bool HasStatistics => false;

    public void GatherStatistics(ComputeContext context) { }

    public void Apply(Span<float> values, long firstElement, ComputeContext context) =>
        DareKernel.Apply(values, firstElement, _random, options.Density, options.Rescale);

    public void Apply(Span<double> values, long firstElement, ComputeContext context) =>
        DareKernel.Apply(values, firstElement, _random, options.Density, options.Rescale);
}
