using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.Core.LoraExport;

/// <summary>The leading singular triplets of a matrix: A ≈ U · diag(S) · Vh, S descending.</summary>
public sealed class SvdFactors(Tensor u, Tensor s, Tensor vh) : IDisposable
{
    /// <summary>rows × k, orthonormal columns.</summary>
    public Tensor U { get; } = u;
    /// <summary>k singular values, descending.</summary>
    public Tensor S { get; } = s;
    /// <summary>k × columns, orthonormal rows.</summary>
    public Tensor Vh { get; } = vh;

    public void Dispose()
    {
        U.Dispose();
        S.Dispose();
        Vh.Dispose();
    }
}

/// <summary>
/// The leading <c>k</c> singular triplets of a float32 matrix, exactly (LAPACK through libtorch) or by a randomized
/// range finder: Y = A·Ω for a seeded Gaussian Ω of <c>k + oversampling</c> columns, a few power iterations
/// (A·Aᵀ applied again, re-orthonormalized by QR each half step so float32 does not lose the small directions),
/// then the exact SVD of the small Qᵀ·A. The randomized result is A's projection onto the found subspace,
/// truncated to rank k: U and Vh are orthonormal, so the kept share of ‖A‖² is exactly Σ S² / ‖A‖² whichever
/// way the factors were found, and the error ‖A − U·S·Vh‖² is ‖A‖² − Σ S². Its excess over the optimal error
/// (the exact tail) shrinks with the power iterations as (σ_{k+1}/σ_k)^(2q) shrinks; the tests bound it on
/// matrices of known spectrum and on realistic deltas.
/// </summary>
public static class TruncatedSvd
{
    /// <summary>Extra columns of the range finder beyond the rank asked for.</summary>
    public const int Oversampling = 16;

    /// <summary>Power iterations: each costs two products with A and sharpens the found subspace.</summary>
    public const int PowerIterations = 2;

    /// <summary>
    /// Whether a rank-<paramref name="rank"/> approximation of a matrix with <paramref name="smallerSide"/> rows or
    /// columns (the smaller) is found the randomized way: only when its subspace is a small part of the matrix's;
    /// near full rank the exact SVD costs about the same and is optimal.
    /// </summary>
    public static bool UsesRandomized(int rank, long smallerSide) => (long)(rank + Oversampling) * 4 <= smallerSide;

    /// <summary>
    /// The leading <paramref name="rank"/> triplets of <paramref name="matrix"/> (2-D float32 on the CPU), through
    /// the randomized finder when <see cref="UsesRandomized"/> allows it and <paramref name="exact"/> does not ask
    /// otherwise. <paramref name="seed"/> fixes Ω, so a result depends only on the matrix, the seed and the machine's kernels.
    /// </summary>
    public static SvdFactors Compute(Tensor matrix, int rank, bool exact, long seed)
    {
        if (matrix.dim() != 2) throw new ArgumentException("a truncated SVD needs a matrix");
        long rows = matrix.shape[0], columns = matrix.shape[1];
        rank = (int)Math.Min(rank, Math.Min(rows, columns));
        return exact || !UsesRandomized(rank, Math.Min(rows, columns)) ? Exact(matrix, rank) : Randomized(matrix, rank, seed);
    }

    /// <summary>LAPACK's SVD of the whole matrix (thin), truncated.</summary>
    public static SvdFactors Exact(Tensor matrix, int rank)
    {
        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(matrix, fullMatrices: false);
        return Keep(u.narrow(1, 0, rank), s.narrow(0, 0, rank), vh.narrow(0, 0, rank));
    }

    /// <summary>The randomized finder, working on the side that keeps the sketch smaller.</summary>
    public static SvdFactors Randomized(Tensor matrix, int rank, long seed)
    {
        using var scope = NewDisposeScope();
        long rows = matrix.shape[0], columns = matrix.shape[1];
        int width = (int)Math.Min(rank + Oversampling, Math.Min(rows, columns));
        using var generator = new Generator((ulong)seed);
        var omega = randn([columns, width], ScalarType.Float32, generator: generator);
        var q = Orthonormal(matrix.matmul(omega));
        for (int i = 0; i < PowerIterations; i++)
        {
            var back = Orthonormal(matrix.t().matmul(q));
            q = Orthonormal(matrix.matmul(back));
        }
        var small = q.t().matmul(matrix);
        var (us, s, vh) = linalg.svd(small, fullMatrices: false);
        var u = q.matmul(us.narrow(1, 0, rank));
        return Keep(u, s.narrow(0, 0, rank), vh.narrow(0, 0, rank));
    }

    private static Tensor Orthonormal(Tensor columns)
    {
        var (q, _) = linalg.qr(columns, linalg.QRMode.Reduced);
        return q;
    }

    private static SvdFactors Keep(Tensor u, Tensor s, Tensor vh) =>
        new(u.contiguous().MoveToOuterDisposeScope(), s.contiguous().MoveToOuterDisposeScope(), vh.contiguous().MoveToOuterDisposeScope());
}
