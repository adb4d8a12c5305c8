using ChatVector.Core.Format;
using Xunit;

namespace ChatVector.Core.Tests.Format;

public sealed class ShardPlannerTests
{
    /// <summary>A U8 tensor of exactly <paramref name="bytes"/> bytes.</summary>
    private static TensorLayout T(string name, long bytes) => new(name, DType.U8, [bytes]);

    private static string[][] Names(IReadOnlyList<ShardPlan> plan) => plan.Select(p => p.Tensors.Select(t => t.Name).ToArray()).ToArray();

    [Fact]
    public void Plan_SplitsGreedilyInArrivalOrder()
    {
        var plan = ShardPlanner.Plan([T("a", 4), T("b", 4), T("c", 4), T("d", 1), T("e", 9)], 10);
        Assert.Equal([["a", "b"], ["c", "d"], ["e"]], Names(plan));
        Assert.Equal([8L, 5L, 9L], plan.Select(p => p.ByteLength));
    }

    [Fact]
    public void Plan_DoesNotReorderToPackBetter()
    {
        var plan = ShardPlanner.Plan([T("a", 6), T("b", 6), T("c", 4)], 10);
        Assert.Equal([["a"], ["b", "c"]], Names(plan));
    }

    [Fact]
    public void Plan_ExactFitStaysInOneShard()
    {
        var plan = ShardPlanner.Plan([T("a", 5), T("b", 5), T("c", 1)], 10);
        Assert.Equal([["a", "b"], ["c"]], Names(plan));
    }

    [Fact]
    public void Plan_EverythingUnderBudget_IsOneModelSafetensors()
    {
        var plan = ShardPlanner.Plan([T("a", 5), T("b", 5)], 10);
        Assert.Equal("model.safetensors", Assert.Single(plan).FileName);
    }

    [Fact]
    public void Plan_TensorLargerThanBudget_GetsAShardAlone()
    {
        var plan = ShardPlanner.Plan([T("a", 3), T("big", 25), T("b", 3)], 10);
        Assert.Equal([["a"], ["big"], ["b"]], Names(plan));
    }

    [Fact]
    public void Plan_OnlyTensorLargerThanBudget_IsOneShard()
    {
        var plan = ShardPlanner.Plan([T("big", 25)], 10);
        Assert.Equal("model.safetensors", Assert.Single(plan).FileName);
    }

    [Fact]
    public void Plan_EmptyList_IsOneEmptyModelSafetensors()
    {
        var plan = ShardPlanner.Plan([], 10);
        var shard = Assert.Single(plan);
        Assert.Equal(ShardPlanner.SingleFileName, shard.FileName);
        Assert.Empty(shard.Tensors);
    }

    [Fact]
    public void Plan_NamesShardsLikeTransformers()
    {
        var plan = ShardPlanner.Plan([T("a", 10), T("b", 10), T("c", 10)], 10);
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"], plan.Select(p => p.FileName));
    }

    [Fact]
    public void Plan_ZeroByteTensorsJoinTheCurrentShard()
    {
        var plan = ShardPlanner.Plan([T("a", 10), T("empty", 0), T("b", 1)], 10);
        Assert.Equal([["a", "empty"], ["b"]], Names(plan));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Plan_NonPositiveBudget_Throws(long budget) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardPlanner.Plan([T("a", 1)], budget));

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
