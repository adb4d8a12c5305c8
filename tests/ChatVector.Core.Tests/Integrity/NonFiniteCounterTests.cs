using ChatVector.Core.Format;
using ChatVector.Core.Integrity;
using CsCheck;
using Xunit;

namespace ChatVector.Core.Tests.Integrity;

/// <summary>NaN/Inf counts from bit patterns, checked against .NET's own classification of the same values.</summary>
public sealed class NonFiniteCounterTests
{
    private static readonly float[] Special =
        [0f, -0f, 1.5f, float.MaxValue, float.MinValue, float.Epsilon, float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.NaN];

    private static (long, long) Expected(IEnumerable<double> values) =>
        (values.LongCount(double.IsNaN), values.LongCount(double.IsInfinity));

    [Fact]
    public void F32_counts_match_float_classification() =>
        Assert.Equal(Expected(Special.Select(v => (double)v)), NonFiniteCounter.Count(DType.F32, ValueBytes.Of(Special)));

    [Fact]
    public void F64_counts_match_double_classification()
    {
        double[] values = [.. Special.Select(v => (double)v), double.MaxValue, BitConverter.UInt64BitsToDouble(0x7FF0000000000001)];
        Assert.Equal(Expected(values), NonFiniteCounter.Count(DType.F64, ValueBytes.Of(values)));
    }

    [Fact]
    public void F16_counts_match_half_classification()
    {
        Half[] values = [Half.Zero, Half.MaxValue, Half.Epsilon, Half.NaN, Half.PositiveInfinity, Half.NegativeInfinity, (Half)65504f, BitConverter.UInt16BitsToHalf(0x7C01)];
        Assert.Equal(Expected(values.Select(v => (double)v)), NonFiniteCounter.Count(DType.F16, ValueBytes.Of(values)));
    }

    [Fact]
    public void BF16_counts_match_the_float32_values_they_truncate() =>
        Assert.Equal(Expected(Special.Select(v => (double)v)), NonFiniteCounter.Count(DType.BF16, ValueBytes.Bf16Of(Special)));

    [Fact]
    public void Random_F32_bytes_count_as_float_classifies_them() =>
        Gen.Float.Array[0, 64].Sample(values =>
            Assert.Equal(Expected(values.Select(v => (double)v)), NonFiniteCounter.Count(DType.F32, ValueBytes.Of(values))));

    [Fact]
    public void A_trailing_partial_element_is_ignored() =>
        Assert.Equal((1L, 0L), NonFiniteCounter.Count(DType.F32, [.. ValueBytes.Of([float.NaN]), 0xFF, 0xFF, 0x80]));

    [Theory]
    [InlineData(DType.I32)]
    [InlineData(DType.U8)]
    [InlineData(DType.F8_E4M3)]
    public void Other_dtypes_are_not_supported_and_count_nothing(DType dtype)
    {
        Assert.False(NonFiniteCounter.Supports(dtype));
        Assert.Equal((0L, 0L), NonFiniteCounter.Count(dtype, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
    }

    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    [InlineData(DType.F32)]
    [InlineData(DType.F64)]
    public void Float_dtypes_are_supported(DType dtype) => Assert.True(NonFiniteCounter.Supports(dtype));
}
