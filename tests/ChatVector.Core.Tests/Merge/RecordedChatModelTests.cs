using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using Xunit;

namespace ChatVector.Core.Tests.Merge;

/// <summary>A saved vector records its chat model's path where it was made; on another machine or OS that path is not there.</summary>
public sealed class RecordedChatModelTests
{
    [Fact]
    public void Special_token_rows_from_a_recorded_chat_model_that_is_not_here_ask_for_ChatModel()
    {
        using var trio = new Trio();
        const string elsewhere = @"C:\models\chat"; // where a Windows server saved it
        var vectors = trio.Pair().Vectors.Select(v => new VectorInput(v, 1.0, v.Provenance with { ChatModel = elsewhere })).ToList();
        var plan = MergePlanner.Plan(new MergeRequest(StoredModel.Open(trio.CpPath), vectors, SpecialTokenMap: new Dictionary<long, long> { [41] = 7 }));
        var problem = Assert.Single(plan.Problems);
        Assert.Contains($"'{elsewhere}'", problem);
        Assert.Contains("does not exist here", problem);
        Assert.Contains("-ChatModel", problem);
    }

    [Fact]
    public void ChatModel_given_takes_the_rows_from_it_whatever_the_vector_recorded()
    {
        using var trio = new Trio();
        var vectors = trio.Pair().Vectors.Select(v => new VectorInput(v, 1.0, v.Provenance with { ChatModel = @"C:\models\chat" })).ToList();
        var plan = MergePlanner.Plan(new MergeRequest(StoredModel.Open(trio.CpPath), vectors, SpecialTokenMap: new Dictionary<long, long> { [41] = 7 },
            SpecialTokenModel: StoredModel.Open(trio.ChatPath)));
        Assert.Empty(plan.Problems);
    }
}
