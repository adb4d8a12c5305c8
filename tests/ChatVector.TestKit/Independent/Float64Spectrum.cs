namespace ChatVector.TestKit.Independent;

/// <summary>
/// The expectation's own SVD, by another route than the code under test: the squared singular values of a
/// row-major matrix as the eigenvalues of its smaller Gram matrix, by cyclic Jacobi rotations in float64.
/// </summary>
public static class Float64Spectrum
{
    /// <summary>σᵢ², descending.</summary>
    public static double[] SquaredSingularValues(double[] matrix, int rows, int columns)
    {
        bool byRows = rows <= columns;
        int n = byRows ? rows : columns, inner = byRows ? columns : rows;
        double At(int i, int k) => byRows ? matrix[i * columns + k] : matrix[k * columns + i];
        var g = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k < inner; k++) sum += At(i, k) * At(j, k);
                g[i, j] = g[j, i] = sum;
            }
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += g[p, q] * g[p, q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (g[p, q] == 0) continue;
                    double theta = (g[q, q] - g[p, p]) / (2 * g[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double gkp = g[k, p], gkq = g[k, q];
                        g[k, p] = c * gkp - s * gkq;
                        g[k, q] = s * gkp + c * gkq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double gpk = g[p, k], gqk = g[q, k];
                        g[p, k] = c * gpk - s * gqk;
                        g[q, k] = s * gpk + c * gqk;
                    }
                }
        }
        return Enumerable.Range(0, n).Select(i => Math.Max(0, g[i, i])).OrderDescending().ToArray();
    }

    /// <summary>The squared Frobenius norm of what a rank-<paramref name="rank"/> truncation leaves out.</summary>
    public static double Tail(double[] squaredSingularValues, int rank) => squaredSingularValues.Skip(rank).Sum();

    /// <summary>(B·A) in float64 from row-major B (rows × rank) and A (rank × columns).</summary>
    public static double[] Product(double[] b, double[] a, int rows, int rank, int columns)
    {
        var product = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < rank; k++)
            {
                double bik = b[i * rank + k];
                for (int j = 0; j < columns; j++) product[i * columns + j] += bik * a[k * columns + j];
            }
        return product;
    }

    public static double[] Transpose(double[] matrix, int rows, int columns)
    {
        var t = new double[matrix.Length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < columns; j++) t[j * rows + i] = matrix[i * columns + j];
        return t;
    }

    public static double SquaredDistance(double[] x, double[] y) => x.Zip(y, (a, b) => (a - b) * (a - b)).Sum();

    public static double SquaredNorm(double[] x) => x.Sum(v => v * v);
}
