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
        var @base = chunk.Base;
        if (n is 2 or 3)
        {
            AccumulateTogether(chunk, plusBase, sums);
            return;
        }
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++)
            {
                var a = chunk.Vector(i);
                var b = chunk.Vector(j);
                double sum = 0;
                if (plusBase)
                    for (int e = 0; e < a.Length; e++) sum += (double)(@base[e] + a[e]) * (@base[e] + b[e]);
                else
                    sum = MethodKernels.AddProducts(0, a, b); // the same additions in element order, products a SIMD vector at a time
                sums[i * n + j] += sum;
                if (j != i) sums[j * n + i] += sum;
            }
    }

    /// <summary>
    /// <see cref="Accumulate"/> for two or three tensors: every product sum in one walk over the elements, each in a
    /// register of its own, so that the sums' additions (one chain each, in element order as before) overlap instead of
    /// running one sum after another.
    /// </summary>
    private static void AccumulateTogether(ChunkValues chunk, bool plusBase, Span<double> sums)
    {
        int n = chunk.VectorCount;
        var @base = chunk.Base;
        var a = chunk.Vector(0);
        var b = chunk.Vector(1);
        var c = n == 3 ? chunk.Vector(2) : b;
        double aa = 0, ab = 0, bb = 0, ac = 0, bc = 0, cc = 0;
        if (n == 2 && !plusBase)
        {
            // The vectors themselves: the same three chains with their products formed a SIMD vector at a time.
            (aa, bb, ab) = MethodKernels.AddProducts(0, 0, 0, a, b);
            AddPair(sums, n, 0, 0, aa);
            AddPair(sums, n, 0, 1, ab);
            AddPair(sums, n, 1, 1, bb);
            return;
        }
        for (int e = 0; e < a.Length; e++)
        {
            float x = plusBase ? @base[e] + a[e] : a[e], y = plusBase ? @base[e] + b[e] : b[e], z = plusBase ? @base[e] + c[e] : c[e];
            aa += (double)x * x;
            ab += (double)x * y;
            bb += (double)y * y;
            if (n == 3)
            {
                ac += (double)x * z;
                bc += (double)y * z;
                cc += (double)z * z;
            }
        }
        AddPair(sums, n, 0, 0, aa);
        AddPair(sums, n, 0, 1, ab);
        AddPair(sums, n, 1, 1, bb);
        if (n == 3)
        {
            AddPair(sums, n, 0, 2, ac);
            AddPair(sums, n, 1, 2, bc);
            AddPair(sums, n, 2, 2, cc);
        }
    }

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
