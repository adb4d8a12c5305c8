using ChatVector.Core.Format;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>Cutting a tensor list into shards by a byte budget, in arrival order, named as transformers names them.</summary>
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
}
