using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// sce's SIMD kernels against its element-by-element rules written out here, bit for bit: lengths with and without a
/// scalar tail, zeros of both signs, NaN, subnormals, values far apart in scale and many ties (bf16-like values).
/// </summary>
public class SceKernelsTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(10_007)]
    public void Two_vectors_sign_elected_equal_the_element_by_element_rule(int length)
    {
        var (x0, a, b) = (SpecialFloats.Values(length, 1), SpecialFloats.Values(length, 2), SpecialFloats.Values(length, 3));
        const float wa = 0.37f, wb = 0.63f;
        var expected = new float[length];
        for (int i = 0; i < length; i++)
        {
            float sum = 0f;
            sum += a[i];
            sum += b[i];
            int majority = sum >= 0 ? 1 : -1;
            // A NaN delta has no sign: it never matches the majority.
            float keptA = !float.IsNaN(a[i]) && Math.Sign(a[i]) == majority ? wa : 0f;
            float keptB = !float.IsNaN(b[i]) && Math.Sign(b[i]) == majority ? wb : 0f;
            float mixed = 0f, divisor = 0f;
            mixed += a[i] * keptA;
            divisor += keptA;
            mixed += b[i] * keptB;
            divisor += keptB;
            expected[i] = x0[i] + mixed / (divisor == 0 ? 1f : divisor);
        }
        var actual = new float[length];
        MethodKernels.SignElectedPair(x0, a, b, wa, wb, actual);
        Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
    }

    [Theory]
    [InlineData(5, 2)]
    [InlineData(64, 17)]
    [InlineData(10_007, 5_000)]
    public void Elements_below_a_threshold_of_the_order_get_the_base_back(int length, int thresholdAt)
    {
        var magnitudes = SpecialFloats.Values(length, 4).Select(Math.Abs).ToArray();
        var x0 = SpecialFloats.Values(length, 5);
        var merged = SpecialFloats.Values(length, 6);
        magnitudes[thresholdAt] = 1f / 256; // a bf16 step, tied many times over in the long case
        const long first = 1_000_000; // the span's place in its tensor
        // The threshold: an element's own key (so that ties at it are cut by index), at its own index.
        var threshold = new OrderPoint(MagnitudeOrder.Key(magnitudes[thresholdAt]), first + thresholdAt);
        var expected = merged.Select((m, i) => new OrderPoint(MagnitudeOrder.Key(magnitudes[i]), first + i) >= threshold ? m : x0[i]).ToArray();
        var actual = (float[])merged.Clone();
        MethodKernels.RestoreBelow(magnitudes, threshold.Key, thresholdAt, x0, actual);
        Assert.Equal(SpecialFloats.Bits(expected), SpecialFloats.Bits(actual));
        if (length < 1000) return;
        // The long case cuts through ties: elements of the threshold's key on both sides of its index.
        var tied = Enumerable.Range(0, length).Where(i => MagnitudeOrder.Key(magnitudes[i]) == threshold.Key).ToArray();
        Assert.Contains(tied, i => i < thresholdAt);
        Assert.Contains(tied, i => i > thresholdAt);
    }

    [Fact]
    public void A_threshold_above_every_key_keeps_nothing()
    {
        var x0 = SpecialFloats.Values(100, 7);
        var actual = SpecialFloats.Values(100, 8);
        MethodKernels.RestoreBelow(SpecialFloats.Values(100, 9), uint.MaxValue, 0, x0, actual);
        Assert.Equal(SpecialFloats.Bits(x0), SpecialFloats.Bits(actual));
    }
}
