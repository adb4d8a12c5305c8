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

    [Fact]
    public void A_tensor_whose_bits_pass_the_budget_gets_none()
    {
        Assert.NotNull(KeptBits.For(KeptBits.MaxBytes * 8));
        Assert.Null(KeptBits.For(KeptBits.MaxBytes * 8 + 1));
    }
}
