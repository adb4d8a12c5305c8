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

    /// <summary>The statistics a chunk adds: the N×N products of the tensors' values, row by row.</summary>
    public static void Accumulate(IReadOnlyList<float[]> values, int length, Span<double> sums)
    {
        int n = values.Count;
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++)
            {
                double sum = 0;
                var a = values[i];
                var b = values[j];
                for (int e = 0; e < length; e++) sum += (double)a[e] * b[e];
                sums[i * n + j] += sum;
                if (j != i) sums[j * n + i] += sum;
            }
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
