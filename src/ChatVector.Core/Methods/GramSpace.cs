using ChatVector.Core.Kernels;

namespace ChatVector.Core.Methods;

/// <summary>
/// Vectors in the span of N whole tensors y₁..y_N, held as N coefficients, with dot products from the tensors' Gram
/// matrix (yᵢ·yⱼ, gathered in one statistics pass): the spherical methods (Multi-SLERP, Karcher) iterate on means and
/// tangents that stay in that span, so they run on N numbers instead of whole tensors, and the chunks then compute
/// Σ kⱼ·yⱼ. Why not hold the tensors: a model's tensor does not fit the memory budget; the span does.
/// </summary>
public sealed class GramSpace
{
    private readonly double[,] _gram;

    public GramSpace(ReadOnlySpan<double> gram, int n)
    {
        N = n;
        _gram = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) _gram[i, j] = gram[i * n + j];
    }

    public int N { get; }

    /// <summary>
    /// The statistics a chunk adds: the N×N products of the tensors' values, row by row. The tensors are the chunk's
    /// vectors, or with <paramref name="plusBase"/> base + each vector (a model's values, rounded to float32 as stored),
    /// formed per element rather than held in arrays of their own.
    /// </summary>
    public static void Accumulate(ChunkValues chunk, bool plusBase, Span<double> sums)
    {
        int n = chunk.VectorCount;
        var @base = plusBase ? chunk.Base : default;
        // The chunk's sums in lanes (LaneSums), added to the totals chunk by chunk: three tensors' six sums in one walk;
        // otherwise pairs of tensors two at a time, both squared norms and the product in one walk.
        if (n == 3)
        {
            var (aa, bb, cc, ab, ac, bc) = plusBase
                ? LaneSums.ProductsOfThree<LaneSums.BaseAdded>(chunk.Vector(0), chunk.Vector(1), chunk.Vector(2), @base)
                : LaneSums.ProductsOfThree<LaneSums.AsGiven>(chunk.Vector(0), chunk.Vector(1), chunk.Vector(2));
            AddPair(sums, n, 0, 0, aa);
            AddPair(sums, n, 1, 1, bb);
            AddPair(sums, n, 2, 2, cc);
            AddPair(sums, n, 0, 1, ab);
            AddPair(sums, n, 0, 2, ac);
            AddPair(sums, n, 1, 2, bc);
            return;
        }
        for (int i = 0; i < n; i += 2)
        {
            if (i + 1 < n)
            {
                var (aa, bb, ab) = plusBase
                    ? LaneSums.Products<LaneSums.BaseAdded>(chunk.Vector(i), chunk.Vector(i + 1), @base)
                    : LaneSums.Products<LaneSums.AsGiven>(chunk.Vector(i), chunk.Vector(i + 1));
                AddPair(sums, n, i, i, aa);
                AddPair(sums, n, i + 1, i + 1, bb);
                AddPair(sums, n, i, i + 1, ab);
            }
            else AddPair(sums, n, i, i, Product(chunk, plusBase, i, i));
            // The products with the tensors after the pair.
            for (int j = i + 2; j < n; j++)
            {
                AddPair(sums, n, i, j, Product(chunk, plusBase, i, j));
                if (i + 1 < n) AddPair(sums, n, i + 1, j, Product(chunk, plusBase, i + 1, j));
            }
        }
    }

    private static double Product(ChunkValues chunk, bool plusBase, int i, int j) => plusBase
        ? LaneSums.Product<LaneSums.BaseAdded>(chunk.Vector(i), chunk.Vector(j), chunk.Base)
        : LaneSums.Product<LaneSums.AsGiven>(chunk.Vector(i), chunk.Vector(j));

    private static void AddPair(Span<double> sums, int n, int i, int j, double sum)
    {
        sums[i * n + j] += sum;
        if (j != i) sums[j * n + i] += sum;
    }

    /// <summary>The i-th tensor itself.</summary>
    public double[] Basis(int i)
    {
        var c = new double[N];
        c[i] = 1;
        return c;
    }

    public double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) sum += a[i] * _gram[i, j] * b[j];
        return sum;
    }

    public double Norm(double[] a) => Math.Sqrt(Math.Max(0, Dot(a, a)));

    public static double[] Scale(double[] a, double s) => a.Select(x => x * s).ToArray();

    public static double[] Add(double[] a, double[] b) => a.Zip(b, (x, y) => x + y).ToArray();

    public double[] Zero() => new double[N];
}
