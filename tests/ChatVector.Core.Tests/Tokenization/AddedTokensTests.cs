using ChatVector.Core.Tokenization;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.Tokenization;

/// <summary>A tokenizer.json grown by added tokens (a union vocabulary) is one the tokenizers library loads and encodes the new tokens with.</summary>
public sealed class AddedTokensTests : TempDirTest
{
    private string WriteBase()
    {
        string path = Path.Combine(Dir.Path, TokenizerFile.FileName);
        File.WriteAllText(path, LlamaModelBuilder.TokenizerJson(["<unk>", "hello", "world", "<|im_start|>"]));
        return path;
    }

    [Fact]
    public void Reads_the_added_tokens_with_their_settings()
    {
        var added = AddedTokens.Read(WriteBase());
        Assert.Equal(new AddedToken("<|im_start|>", Special: true, Normalized: false), Assert.Single(added).Value);
    }

    [ChatVector.Tests.TokenizerLibraryFact]
    public void Appended_tokens_get_the_next_ids_and_the_library_encodes_them()
    {
        string grown = Path.Combine(Dir.Path, "grown.json");
        File.WriteAllText(grown, AddedTokens.Append(WriteBase(), [AddedToken.Plain("hola"), new AddedToken("<|im_end|>", Special: true, Normalized: false)], firstId: 4));

        using var tokenizer = TokenizerFile.Load(grown);
        Assert.Equal(5L, tokenizer.TokenToId("<|im_end|>"));
        Assert.Equal([3L, 1, 4, 5], tokenizer.Encode("<|im_start|>hello hola<|im_end|>"));
        Assert.True(AddedTokens.Read(grown)["<|im_end|>"].Special);
        Assert.False(AddedTokens.Read(grown)["hola"].Special);
    }
}
