using ChatVector.Core.Kernels;
namespace ChatVector.Core.Sparsify;

/// <summary>
/// The keep rule of the magnitude trims: the order positions [<see cref="Start"/>, <see cref="End"/>) are
/// kept. Magnitude keeps the last k = ⌊density·n⌋ (computed in double); Breadcrumbs also drops the n_top =
/// ⌊gamma·n⌋ largest, with n_bot = n − k − n_top, and when n_bot &lt; 0 it keeps the k smallest of the top
/// instead (n_bot = 0, n_top = n − k).
/// </summary>
public readonly record struct OrderWindow(long Start, long End)
{
    public static long KeepCount(long n, double density) => (long)Math.Floor(density * n);

    public static OrderWindow For(SparsifyOptions options, long n)
    {
        long k = KeepCount(n, options.Density);
        switch (options.Method)
        {
            case SparsifyMethod.Magnitude:
                return new OrderWindow(n - k, n);
            case SparsifyMethod.Breadcrumbs:
                long top = (long)Math.Floor(options.Gamma * n);
                long bottom = n - k - top;
                if (bottom < 0) (bottom, top) = (0, n - k);
                return new OrderWindow(bottom, n - top);
            default:
                throw new ArgumentException($"{options.Method} is not a magnitude trim", nameof(options));
        }
    }

    /// <summary>The order positions to look up (0 and n need none: they are the order's ends).</summary>
    public IReadOnlyList<long> PositionsToSelect(long n) =>
        new[] { Start, End }.Where(p => p > 0 && p < n).Distinct().ToList();

    /// <summary>The bounds as order points, given the points found for <see cref="PositionsToSelect"/>.</summary>
    public (OrderPoint Lower, OrderPoint Upper) Bounds(long n, IReadOnlyDictionary<long, OrderPoint> found) =>
        (Bound(Start, n, found), Bound(End, n, found));

    private static OrderPoint Bound(long position, long n, IReadOnlyDictionary<long, OrderPoint> found) =>
        position <= 0 ? OrderPoint.First : position >= n ? OrderPoint.End : found[position];
}
