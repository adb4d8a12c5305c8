using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ChatVector.Core.Kernels;

/// <summary>
/// Rows of a LoRA delta, left (rows × rank) times right (rank × columns): each element Σₖ left[i,k]·right[k,j] as a chain
/// of float32 fused multiply-adds in k's order, from 0. A fused multiply-add rounds once, as IEEE 754 defines it: the FMA
/// instruction where the CPU has one, else <see cref="FusedMultiplyAdd"/> here, from double operations only (not
/// <see cref="MathF.FusedMultiplyAdd"/>, which then calls the C library's fmaf, not correctly rounded on Windows), so the
/// bits are the same on every CPU and OS. Why not libtorch's <c>mm</c>: its BLAS (MKL's sgemm) picks its kernels per CPU
/// (AVX2, AVX-512) and may split the sum by thread, so one adapter merged into one model gave other bits on another
/// machine. The accuracy is a float32 BLAS's (rank roundings). As fast as that sgemm here (paired merges of a rank-16
/// adapter: 1.03× the CPU): 32 columns of two rows at a time, each load of the right factor serving both rows.
/// </summary>
public static class LowRankProduct
{
    // Four float32 vectors of sums per row: independent chains that keep both multiply-add units busy through each
    // one's latency. The right factor's rows of one block (rank × 32 floats) stay in the first-level cache across rows.
    private const int BlockColumns = 32;

    /// <summary>output[i·columns + j] = Σₖ left[i·rank + k]·right[k·columns + j], for the rows in <paramref name="left"/>.</summary>
    [MethodImpl(HotLoop.Options)]
    public static void Multiply(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rank, Span<float> output)
    {
        if (rank <= 0 || left.Length % rank != 0 || right.Length % rank != 0)
            throw new ArgumentException($"left ({left.Length}) and right ({right.Length}) must both hold whole rows of rank {rank}.");
        int rows = left.Length / rank, columns = right.Length / rank;
        if (output.Length != (long)rows * columns)
            throw new ArgumentException($"output holds {output.Length} values; {rows} × {columns} are needed.", nameof(output));
        int column = 0;
        if (Fma.IsSupported)
            for (; column + BlockColumns <= columns; column += BlockColumns)
            {
                int i = 0;
                for (; i + 2 <= rows; i += 2) TwoRowBlock(left.Slice(i * rank, 2 * rank), rank, right, columns, column, output.Slice(i * columns, 2 * columns));
                for (; i < rows; i++) Block(left.Slice(i * rank, rank), right, columns, column, output.Slice(i * columns, columns));
            }
        for (; column < columns; column++)
            for (int i = 0; i < rows; i++) output[i * columns + column] = Element(left.Slice(i * rank, rank), right, columns, column);
        // A NaN carries one of its operands' payloads, and which one depends on the path (vector, scalar, software) and on
        // the instruction form the JIT picked: every NaN becomes the one quiet NaN, so the bits stay the same everywhere.
        // Finite factors make none (a fused product is exact, and a sum that overflowed stays infinite), and then the
        // output is not walked again.
        if (!AllFinite(left) || !AllFinite(right)) CanonicalizeNaNs(output);
    }

    /// <summary>The quiet NaN every NaN of a product becomes (libtorch's and .NET's float.NaN bits, positive).</summary>
    public const uint CanonicalNaNBits = 0x7FC0_0000;

    /// <summary>No NaN and no infinity: no exponent field all ones, a SIMD vector at a time (the right factor is checked per chunk).</summary>
    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var exponent = new Vector<uint>(0x7F80_0000u);
            var any = Vector<uint>.Zero;
            for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
                any |= Vector.Equals(new Vector<uint>(bits[i..]) & exponent, exponent);
            if (any != Vector<uint>.Zero) return false;
        }
        for (; i < bits.Length; i++)
            if ((bits[i] & 0x7F80_0000u) == 0x7F80_0000u) return false;
        return true;
    }

    private static void CanonicalizeNaNs(Span<float> output)
    {
        foreach (ref float value in output)
            if (float.IsNaN(value)) value = BitConverter.UInt32BitsToSingle(CanonicalNaNBits);
    }

    /// <summary>32 columns of one row, the sums held in registers across the rank.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block(ReadOnlySpan<float> factors, ReadOnlySpan<float> right, int columns, int column, Span<float> destination)
    {
        ref float rightStart = ref MemoryMarshal.GetReference(right);
        ref float factorStart = ref MemoryMarshal.GetReference(factors);
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        for (int k = 0; k < factors.Length; k++)
        {
            var f = Vector256.Create(Unsafe.Add(ref factorStart, k));
            ref float row = ref Unsafe.Add(ref rightStart, (nint)((long)k * columns + column));
            s0 = Fma.MultiplyAdd(f, Vector256.LoadUnsafe(ref row, 0), s0);
            s1 = Fma.MultiplyAdd(f, Vector256.LoadUnsafe(ref row, 8), s1);
            s2 = Fma.MultiplyAdd(f, Vector256.LoadUnsafe(ref row, 16), s2);
            s3 = Fma.MultiplyAdd(f, Vector256.LoadUnsafe(ref row, 24), s3);
        }
        ref float target = ref MemoryMarshal.GetReference(destination);
        s0.StoreUnsafe(ref target, (nuint)column);
        s1.StoreUnsafe(ref target, (nuint)column + 8);
        s2.StoreUnsafe(ref target, (nuint)column + 16);
        s3.StoreUnsafe(ref target, (nuint)column + 24);
    }

    /// <summary>32 columns of two rows: each load of the right factor serves both rows' sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwoRowBlock(ReadOnlySpan<float> factors, int rank, ReadOnlySpan<float> right, int columns, int column, Span<float> destination)
    {
        ref float rightStart = ref MemoryMarshal.GetReference(right);
        ref float factorStart = ref MemoryMarshal.GetReference(factors);
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int k = 0; k < rank; k++)
        {
            var f = Vector256.Create(Unsafe.Add(ref factorStart, k));
            var g = Vector256.Create(Unsafe.Add(ref factorStart, rank + k));
            ref float row = ref Unsafe.Add(ref rightStart, (nint)((long)k * columns + column));
            var r0 = Vector256.LoadUnsafe(ref row, 0);
            var r1 = Vector256.LoadUnsafe(ref row, 8);
            var r2 = Vector256.LoadUnsafe(ref row, 16);
            var r3 = Vector256.LoadUnsafe(ref row, 24);
            a0 = Fma.MultiplyAdd(f, r0, a0);
            a1 = Fma.MultiplyAdd(f, r1, a1);
            a2 = Fma.MultiplyAdd(f, r2, a2);
            a3 = Fma.MultiplyAdd(f, r3, a3);
            b0 = Fma.MultiplyAdd(g, r0, b0);
            b1 = Fma.MultiplyAdd(g, r1, b1);
            b2 = Fma.MultiplyAdd(g, r2, b2);
            b3 = Fma.MultiplyAdd(g, r3, b3);
        }
        ref float target = ref MemoryMarshal.GetReference(destination);
        nuint next = (nuint)columns;
        a0.StoreUnsafe(ref target, (nuint)column);
        a1.StoreUnsafe(ref target, (nuint)column + 8);
        a2.StoreUnsafe(ref target, (nuint)column + 16);
        a3.StoreUnsafe(ref target, (nuint)column + 24);
        b0.StoreUnsafe(ref target, next + (nuint)column);
        b1.StoreUnsafe(ref target, next + (nuint)column + 8);
        b2.StoreUnsafe(ref target, next + (nuint)column + 16);
        b3.StoreUnsafe(ref target, next + (nuint)column + 24);
    }

    /// <summary>One element, the same fused operations one float at a time (the last columns, or a CPU without FMA).</summary>
    private static float Element(ReadOnlySpan<float> factors, ReadOnlySpan<float> right, int columns, int column)
    {
        float sum = 0;
        for (int k = 0; k < factors.Length; k++) sum = FusedMultiplyAdd(factors[k], right[k * columns + column], sum);
        return sum;
    }

    /// <summary>
    /// a·b + c rounded once to float32, from double operations: a·b is exact in double (48 bits), p + c is rounded to
    /// double with its exact error found by TwoSum, and an inexact sum is moved to the odd neighbour on the error's side
    /// (rounding to odd), after which one conversion to float32 rounds as the exact value would (53 ≥ 24 + 2 bits).
    /// </summary>
    public static float FusedMultiplyAdd(float a, float b, float c)
    {
        double product = (double)a * b, sum = product + c;
        if (!double.IsFinite(sum)) return (float)sum; // infinities and NaN: nothing to round
        double back = sum - product, error = (product - (sum - back)) + (c - back);
        if (error != 0 && (BitConverter.DoubleToInt64Bits(sum) & 1) == 0)
            sum = error > 0 ? Math.BitIncrement(sum) : Math.BitDecrement(sum);
        return (float)sum;
    }
}
