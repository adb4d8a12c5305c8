using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// The magnitude trims, TIES' (<see cref="SparsifyMethod.Magnitude"/>: the ⌊density·n⌋ largest |v|) and Model
/// Breadcrumbs' (also drops the ⌊gamma·n⌋ largest): the positions [start, end) of the magnitude order are kept
/// (<see cref="OrderWindow"/>). Statistics: the order points at the window's two ends, found exactly by
/// <see cref="ExactSelection"/> in passes over the vector's keys, once per tensor and shared by all threads.
/// Mask: <see cref="TrimKernel"/>, divided by the density when rescaling.
/// </summary>
internal sealed class MagnitudeTrim(SparsifyOptions options, SparsifyTarget target) : ISparsifyRule
{
    private readonly object _gate = new();
    private (OrderPoint Lower, OrderPoint Upper)? _bounds;

    public bool RanksRows => false;
    public bool HasStatistics => true;

    public void GatherStatistics(ComputeContext context) => Bounds(context);

    public void Apply(Span<float> values, long firstElement, ComputeContext context) => Apply<float>(values, firstElement, context);

    public void Apply(Span<double> values, long firstElement, ComputeContext context) => Apply<double>(values, firstElement, context);

    private void Apply<T>(Span<T> values, long firstElement, ComputeContext context) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var (lower, upper) = Bounds(context);
        TrimKernel.Apply(values, firstElement, lower, upper, options.Rescale ? options.Density : null);
    }

    /// <summary>The window's bounds, found once per tensor; a failed or cancelled search is retried by the next reader.</summary>
    private (OrderPoint Lower, OrderPoint Upper) Bounds(ComputeContext context)
    {
        lock (_gate)
        {
            if (_bounds is { } known) return known;
            long n = target.ElementCount;
            var window = OrderWindow.For(options, n);
            var positions = window.PositionsToSelect(n);
            var points = ExactSelection.Select(n, positions, (start, keys) => target.ReadKeys(start, keys, context), target.SelectionChunkElements,
                context.Parallelism, context.Cancellation);
            var found = positions.Zip(points).ToDictionary(p => p.First, p => p.Second);
            _bounds = window.Bounds(n, found);
            return _bounds.Value;
        }
    }
}
