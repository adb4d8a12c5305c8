using ChatVector.Core.Format;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>Byte sizes as users write them (-MaxShardSize 5GB) and as messages show them.</summary>
public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("5GB", 5_000_000_000L)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("2GiB", 2_147_483_648L)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("123", 123L)]
    [InlineData(" 10 kb ", 10_000L)]
    [InlineData("1KiB", 1024L)]
    [InlineData("3MiB", 3L << 20)]
    [InlineData("1TB", 1_000_000_000_000L)]
    [InlineData("1tib", 1L << 40)]
    [InlineData("7B", 7L)]
    [InlineData("2G", 2_000_000_000L)]
    public void ByteSizeParse_AcceptsDecimalAndBinaryUnits(string text, long expected) =>
        Assert.Equal(expected, ByteSize.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-1GB")]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("0.5")]
    [InlineData("5 PB")]
    [InlineData("5GBB")]
    [InlineData("5XB")]
    [InlineData("1e9")]
    [InlineData("5,5GB")]
    [InlineData("10000000TB")] // past long.MaxValue
    public void ByteSizeParse_RejectsWithFormatException(string text)
    {
        var e = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Contains($"'{text}'", e.Message);
    }

    [Fact]
    public void ByteSizeParse_Null_IsFormatException() => Assert.Throws<FormatException>(() => ByteSize.Parse(null!));

    [Fact]
    public void ByteSizeParse_NumberPastDecimalRange_IsFormatException() =>
        Assert.Throws<FormatException>(() => ByteSize.Parse("100000000000000000000000000000"));

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(999L, "999 B")]
    [InlineData(1_000L, "1.00 KB")]
    [InlineData(1_500_000L, "1.50 MB")]
    [InlineData(5_000_000_000L, "5.00 GB")]
    [InlineData(2_000_000_000_000L, "2.00 TB")]
    [InlineData(5_000_000_000_000_000L, "5000.00 TB")]
    public void ByteSizeFormat_UsesDecimalUnits(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));

    [Fact]
    public void DefaultShardSize_IsFiveDecimalGigabytes() => Assert.Equal(5_000_000_000L, ByteSize.DefaultShardSize);
}
