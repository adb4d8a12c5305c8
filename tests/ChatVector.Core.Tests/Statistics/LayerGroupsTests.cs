using ChatVector.Core.Statistics;
using Xunit;

namespace ChatVector.Core.Tests.Statistics;

public class LayerGroupsTests
{
    [Theory]
    [InlineData("model.layers.0.self_attn.q_proj.weight", "layer 0")]
    [InlineData("model.layers.31.mlp.down_proj.weight", "layer 31")]
    [InlineData("transformer.h.7.attn.c_attn.weight", "layer 7")]
    [InlineData("blocks.2.ffn.weight", "layer 2")]
    [InlineData("model.embed_tokens.weight", LayerGroups.OutsideLayers)]
    [InlineData("lm_head.weight", LayerGroups.OutsideLayers)]
    [InlineData("model.mylayers.3.weight", LayerGroups.OutsideLayers)]
    public void Groups_tensors_by_layer_number(string name, string group) => Assert.Equal(group, LayerGroups.Of(name));
}
