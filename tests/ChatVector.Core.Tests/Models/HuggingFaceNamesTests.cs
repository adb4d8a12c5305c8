using ChatVector.Core.Models;
using Xunit;

namespace ChatVector.Core.Tests.Models;

public sealed class HuggingFaceNamesTests
{
    [Fact]
    public void A_decoder_layer_weight_is_named_as_transformers_saves_it()
    {
        Assert.Equal("model.layers.3.self_attn.q_proj.weight", HuggingFaceNames.LayerWeight(3, HuggingFaceNames.QProj));
        Assert.Equal("model.layers.0.self_attn.o_proj.bias", HuggingFaceNames.LayerBias(0, HuggingFaceNames.OProj));
        Assert.Equal("model.layers.31.post_attention_layernorm.weight", HuggingFaceNames.LayerWeight(31, HuggingFaceNames.PostAttentionNorm));
    }

    [Theory]
    [InlineData("model.embed_tokens.weight", true, false)]
    [InlineData("lm_head.weight", true, true)]
    [InlineData("transformer.wte.weight", true, false)]
    [InlineData("gpt_neox.embed_in.weight", true, false)]
    [InlineData("embed_out.weight", true, true)]
    [InlineData("transformer.word_embeddings.weight", true, false)]
    [InlineData("model.layers.0.mlp.up_proj.weight", false, false)]
    [InlineData("model.my_embed_tokens.weight", false, false)]
    public void Rows_per_vocabulary_entry_are_told_by_name(string name, bool embedding, bool lmHead)
    {
        Assert.Equal(embedding, HuggingFaceNames.IsEmbedding(name));
        Assert.Equal(lmHead, HuggingFaceNames.IsLmHead(name));
    }

    [Theory]
    [InlineData("model.layers.12.mlp.up_proj.weight", 12)]
    [InlineData("transformer.h.7.attn.c_attn.weight", 7)]
    [InlineData("blocks.2.ffn.weight", 2)]
    [InlineData("model.norm.weight", null)]
    [InlineData("model.layers.99999999999.mlp.up_proj.weight", null)]
    public void The_layer_of_a_tensor_is_read_from_its_name(string name, int? layer) => Assert.Equal(layer, HuggingFaceNames.LayerNumber(name));
}
