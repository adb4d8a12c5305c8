using System.IO.Hashing;
using System.Numerics;
using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// <see cref="LowRankProduct"/> against the exact sum of products (rational arithmetic: a float is an integer times a
/// power of two), which it must meet within the error of its rank float32 roundings, and against its chain of fused
/// multiply-adds written out one float at a time, bit for bit (also run with DOTNET_EnableAVX2=0 and
/// DOTNET_EnableHWIntrinsic=0, where no FMA instruction is used); a checksum of its outputs recorded when it was written
/// pins the bits for machines of other kinds.
/// </summary>
public class LowRankProductTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 8, 17)] // one block and a tail
    [InlineData(5, 16, 64)]
    [InlineData(2, 64, 53)]
    [InlineData(4, 128, 4099)]
    public void Each_element_is_the_exact_sum_within_its_float32_roundings(int rows, int rank, int columns)
    {
        var (left, right) = Factors(new Random(rows * 1000 + rank * 10 + columns), rows, rank, columns);
        var output = new float[rows * columns];
        LowRankProduct.Multiply(left, right, rank, output);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                var (exact, magnitude) = ExactSum(left, right, rank, columns, i, j);
                // rank fused multiply-adds, each rounding to float32: at most 2^-24 of the magnitudes summed so far.
                double tolerance = rank * Math.Pow(2, -24) * magnitude + 1e-44;
                Assert.True(Math.Abs(output[i * columns + j] - exact) <= tolerance, $"({i}, {j}): {output[i * columns + j]:R} against {exact:R}");
            }
    }

    [Theory]
    [InlineData(7, 16, 11008)]
    [InlineData(3, 13, 31)]
    [InlineData(1, 4, 96)] // one row: no pair
    [InlineData(5, 8, 75)] // pairs, a single row, blocks and a tail
    public void Vector_blocks_give_the_bits_of_the_fused_chain_one_float_at_a_time(int rows, int rank, int columns)
    {
        var (left, right) = Factors(new Random(rows + rank + columns), rows, rank, columns);
        right[5] = float.PositiveInfinity; // specials travel as in the scalar order
        right[columns + 2] = float.NaN;
        var output = new float[rows * columns];
        LowRankProduct.Multiply(left, right, rank, output);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                float expected = 0, actual = output[i * columns + j];
                for (int k = 0; k < rank; k++) expected = MathF.FusedMultiplyAdd(left[i * rank + k], right[k * columns + j], expected);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual) || float.IsNaN(expected) && float.IsNaN(actual),
                    $"({i}, {j}): {actual:R} against {expected:R}");
            }
    }

    [Fact]
    public void Outputs_have_the_bits_recorded_when_this_was_written()
    {
        var (left, right) = Factors(new Random(9), 33, 16, 1000);
        var output = new float[33 * 1000];
        LowRankProduct.Multiply(left, right, 16, output);
        Assert.Equal(RecordedChecksum, Crc64.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(output.AsSpan())));
    }

    private const ulong RecordedChecksum = 16865046204777650781;

    [Fact]
    public void Factors_that_do_not_fit_the_rank_or_the_output_are_refused()
    {
        Assert.Throws<ArgumentException>(() => LowRankProduct.Multiply(new float[6], new float[8], 4, new float[2]));
        Assert.Throws<ArgumentException>(() => LowRankProduct.Multiply(new float[8], new float[8], 4, new float[3]));
        Assert.Throws<ArgumentException>(() => LowRankProduct.Multiply(new float[8], new float[8], 0, new float[4]));
    }

    /// <summary>LoRA-like factors: B small (a few steps of training from zero), A of kaiming-uniform scale, some exact zeros.</summary>
    private static (float[] Left, float[] Right) Factors(Random random, int rows, int rank, int columns)
    {
        var left = Enumerable.Range(0, rows * rank).Select(_ => random.Next(10) == 0 ? 0f : (float)((random.NextDouble() - 0.5) * 2e-3)).ToArray();
        var right = Enumerable.Range(0, rank * columns).Select(_ => (float)((random.NextDouble() - 0.5) * 2 / Math.Sqrt(columns))).ToArray();
        return (left, right);
    }

    /// <summary>Σₖ left·right exactly (as a fraction of big integers), returned rounded to a double, and Σ |products|.</summary>
    private static (double Exact, double Magnitude) ExactSum(float[] left, float[] right, int rank, int columns, int i, int j)
    {
        // Every float is m·2^e with e ≥ −149, so each product is an integer times 2^-298.
        BigInteger sum = BigInteger.Zero;
        double magnitude = 0;
        for (int k = 0; k < rank; k++)
        {
            float a = left[i * rank + k], b = right[k * columns + j];
            sum += Scaled(a) * Scaled(b);
            magnitude += Math.Abs((double)a * b);
        }
        return (Math.ScaleB((double)sum, -298), magnitude); // the conversion rounds once; scaling by 2^-298 is exact here
    }

    private static BigInteger Scaled(float value) => new BigInteger(Math.ScaleB((double)value, 149)); // exact: an integer below 2^277
}
