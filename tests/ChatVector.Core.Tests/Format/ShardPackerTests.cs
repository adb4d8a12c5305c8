using ChatVector.Core.Format;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>Cutting a tensor list into shards by a byte budget, in arrival order, named as transformers names them.</summary>
public sealed class ShardPackerTests
{
    /// <summary>A U8 tensor of exactly <paramref name="bytes"/> bytes.</summary>
    private static TensorDeclaration T(string name, long bytes) => new(name, DType.U8, [bytes]);

    private static string[][] Names(IReadOnlyList<ShardAssignment> plan) => plan.Select(p => p.Tensors.Select(t => t.Name).ToArray()).ToArray();

    [Fact]
    public void Pack_SplitsGreedilyInArrivalOrder()
    {
        var plan = ShardPacker.Pack([T("a", 4), T("b", 4), T("c", 4), T("d", 1), T("e", 9)], 10);
        Assert.Equal([["a", "b"], ["c", "d"], ["e"]], Names(plan));
        Assert.Equal([8L, 5L, 9L], plan.Select(p => p.ByteLength));
    }

    [Fact]
    public void Pack_DoesNotReorderToPackBetter()
    {
        var plan = ShardPacker.Pack([T("a", 6), T("b", 6), T("c", 4)], 10);
        Assert.Equal([["a"], ["b", "c"]], Names(plan));
    }

    [Fact]
    public void Pack_ExactFitStaysInOneShard()
    {
        var plan = ShardPacker.Pack([T("a", 5), T("b", 5), T("c", 1)], 10);
        Assert.Equal([["a", "b"], ["c"]], Names(plan));
    }

    [Fact]
    public void Pack_EverythingUnderBudget_IsOneModelSafetensors()
    {
        var plan = ShardPacker.Pack([T("a", 5), T("b", 5)], 10);
        Assert.Equal("model.safetensors", Assert.Single(plan).FileName);
    }

    [Fact]
    public void Pack_TensorLargerThanBudget_GetsAShardAlone()
    {
        var plan = ShardPacker.Pack([T("a", 3), T("big", 25), T("b", 3)], 10);
        Assert.Equal([["a"], ["big"], ["b"]], Names(plan));
    }

    [Fact]
    public void Pack_OnlyTensorLargerThanBudget_IsOneShard()
    {
        var plan = ShardPacker.Pack([T("big", 25)], 10);
        Assert.Equal("model.safetensors", Assert.Single(plan).FileName);
    }

    [Fact]
    public void Pack_EmptyList_IsOneEmptyModelSafetensors()
    {
        var plan = ShardPacker.Pack([], 10);
        var shard = Assert.Single(plan);
        Assert.Equal(ShardPacker.SingleFileName, shard.FileName);
        Assert.Empty(shard.Tensors);
    }

    [Fact]
    public void Pack_NamesShardsLikeTransformers()
    {
        var plan = ShardPacker.Pack([T("a", 10), T("b", 10), T("c", 10)], 10);
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"], plan.Select(p => p.FileName));
    }

    [Fact]
    public void Pack_ZeroByteTensorsJoinTheCurrentShard()
    {
        var plan = ShardPacker.Pack([T("a", 10), T("empty", 0), T("b", 1)], 10);
        Assert.Equal([["a", "empty"], ["b"]], Names(plan));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Pack_NonPositiveBudget_Throws(long budget) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardPacker.Pack([T("a", 1)], budget));
}
