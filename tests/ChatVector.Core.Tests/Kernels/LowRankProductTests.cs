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
    public void The_software_fused_multiply_add_rounds_the_exact_value_once()
    {
        var random = new Random(11);
        float RandomFloat(int low, int high) => (float)((random.NextDouble() + 0.5) * Math.Pow(2, random.Next(low, high))) * (random.Next(2) == 0 ? 1 : -1);
        var cases = new List<(float A, float B, float C)>
        {
            (-1.9369631e13f, 2.1513551e-7f, -1.7354427e-24f), // a published counterexample to a C library's fmaf
            (1 + 1f / 4096, 1 + 1f / 4096, MathF.Pow(2, -100)), // the product a tie in float32, c just above it: rounds up
            (1 + 1f / 4096, 1 + 1f / 4096, -MathF.Pow(2, -100)), // just below it: rounds down
            (1 + 1f / 4096, 1 + 1f / 4096, 0), // the tie itself: to even
            (3, 5, -15), (-0f, 1, 0), (1e-30f, 1e-30f, 0), (1e-20f, 1e-20f, 1e-45f), // exact zero, a signed zero, subnormals
        };
        for (int i = 0; i < 20_000; i++)
        {
            float a = RandomFloat(-20, 20), b = RandomFloat(-20, 20);
            // c near a·b's magnitude (cancellation) or far below it (the cases a double rounding gets wrong).
            float c = random.Next(2) == 0 ? -a * b * (1 + (float)random.NextDouble() * 1e-3f) : RandomFloat(-80, -30);
            cases.Add((a, b, c));
        }
        foreach (var (a, b, c) in cases)
        {
            float expected = ExactlyRounded(a, b, c), actual = LowRankProduct.FusedMultiplyAdd(a, b, c);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"fma({a:R}, {b:R}, {c:R}): {actual:R} against {expected:R}");
        }
        Assert.True(float.IsNaN(LowRankProduct.FusedMultiplyAdd(float.PositiveInfinity, 0, 1)));
        Assert.Equal(float.PositiveInfinity, LowRankProduct.FusedMultiplyAdd(float.MaxValue, 2, 0));
    }

    /// <summary>a·b + c rounded to the nearest float32 (ties to even), from exact integer arithmetic in units of 2^-298.</summary>
    private static float ExactlyRounded(float a, float b, float c)
    {
        var exact = Scaled(a) * Scaled(b) + Scaled(c) * BigInteger.Pow(2, 149);
        if (exact.IsZero) return (float)((double)a * b + c); // the sign of an exact zero, as IEEE gives it (the double sum is exact here)
        float guess = (float)Math.ScaleB((double)exact, -298);
        float best = guess;
        BigInteger bestDistance = BigInteger.Abs(Units(guess) - exact);
        foreach (float candidate in new[] { MathF.BitDecrement(guess), MathF.BitIncrement(guess) })
        {
            var distance = BigInteger.Abs(Units(candidate) - exact);
            if (distance < bestDistance || distance == bestDistance && (BitConverter.SingleToInt32Bits(candidate) & 1) == 0)
                (best, bestDistance) = (candidate, distance);
        }
        return best;
    }

    /// <summary>A float in units of 2^-298, exactly: its value · 2^149 is an integer, times 2^149 again.</summary>
    private static BigInteger Units(float value) => Scaled(value) * BigInteger.Pow(2, 149);

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

    [Theory]
    [InlineData(5, 4, 70)]  // two 32-column blocks and a scalar tail, an odd row
    [InlineData(3, 16, 9)]  // the scalar path only
    public void Every_NaN_of_a_product_is_the_one_quiet_NaN_whatever_its_operands_payloads(int rows, int rank, int columns)
    {
        var (left, right) = Factors(new Random(rows * 7 + rank + columns), rows, rank, columns);
        left[1] = BitConverter.UInt32BitsToSingle(0x7FC0_1234); // a quiet NaN with a payload
        right[2 * columns + 3] = BitConverter.UInt32BitsToSingle(0xFFC0_0042); // a negative one
        right[columns - 1] = float.PositiveInfinity;
        left[(rows - 1) * rank] = float.NegativeInfinity; // ∞ − ∞ and ∞ · 0 somewhere in the chains
        var output = new float[rows * columns];
        LowRankProduct.Multiply(left, right, rank, output);
        Assert.Contains(output, float.IsNaN);
        Assert.All(output.Where(float.IsNaN), nan => Assert.Equal(LowRankProduct.CanonicalNaNBits, BitConverter.SingleToUInt32Bits(nan)));
    }
}
