using ChatVector.Core.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Sparsify;

/// <summary>The kept bits give back a rule's output bit for bit (−0 kept, dropped to +0), and go once every element is served.</summary>
public class KeptBitsTests
{
    [Fact]
    public void Applying_the_bits_gives_the_recorded_output_and_they_go_after_the_last_element()
    {
        float[] original = [1.5f, -0f, 0f, -2f, 3f, 4f, -5f, 6f, 7f, 8f];
        float[] masked = [1.5f, -0f, 0f, 0f, 3f, 0f, -5f, 0f, 7f, 0f];
        var bits = KeptBits.For(original.Length)!;
        bits.Record(masked.AsSpan(0, 4), 0);
        bits.Record(masked.AsSpan(4), 4);

        var head = original[..6];
        Assert.True(bits.TryApply(head, 0, served: 6));
        var tail = original[6..];
        Assert.True(bits.TryApply(tail, 6, served: 4));
        Assert.Equal(masked.Select(BitConverter.SingleToUInt32Bits), head.Concat(tail).Select(BitConverter.SingleToUInt32Bits));

        Assert.False(bits.TryApply(new float[2], 0, served: 2)); // every element served: the bits are gone
    }

    [Theory]
    [InlineData(3, 997)]
    [InlineData(64, 1000)]
    [InlineData(5, 17)]
    public void Pieces_recorded_and_applied_at_any_offset_give_the_rule_output_bit_for_bit(int firstPiece, int piece)
    {
        // Long spans at offsets that are not multiples of 8 or 64: the eight-at-a-time paths and the element-at-a-time
        // edges both run. The output is what a kept element keeps: its own bits (−0, subnormals, NaN included), else +0.
        const int n = 5_003;
        var random = new Random(7);
        var original = new float[n];
        var masked = new float[n];
        for (int i = 0; i < n; i++)
        {
            original[i] = (i % 11) switch
            {
                0 => -0f,
                1 => float.NaN,
                2 => float.Epsilon,
                _ => (float)(random.NextDouble() - 0.5),
            };
            masked[i] = random.Next(3) == 0 ? 0f : original[i];
        }
        var bits = KeptBits.For(n)!;
        for (int start = 0, length = firstPiece; start < n; start += length, length = piece)
            bits.Record(masked.AsSpan(start, Math.Min(length, n - start)), start);
        var applied = (float[])original.Clone();
        for (int start = 0, length = piece; start < n; start += length, length = firstPiece + piece / 3)
            Assert.True(bits.TryApply(applied.AsSpan(start, Math.Min(length, n - start)), start, Math.Min(length, n - start)));
        Assert.Equal(masked.Select(BitConverter.SingleToUInt32Bits), applied.Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void A_tensor_whose_bits_pass_the_budget_gets_none()
    {
        Assert.NotNull(KeptBits.For(KeptBits.MaxBytes * 8));
        Assert.Null(KeptBits.For(KeptBits.MaxBytes * 8 + 1));
    }
}
