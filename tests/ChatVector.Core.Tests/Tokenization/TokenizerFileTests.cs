using ChatVector.Core.Tokenization;
using ChatVector.Tests.Shared;
using Xunit;

namespace ChatVector.Core.Tests.Tokenization;

public sealed class TokenizerFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("chatvector-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_folder, TokenizerFile.FileName);
        File.WriteAllText(path, json);
        return path;
    }

    private static readonly string[] Tokens = ["<unk>", "hello", "world", "<|im_start|>", "<|im_end|>"];

    [Fact]
    public void Finds_added_tokens_and_vocabulary_tokens_by_exact_text()
    {
        using var tokenizer = TokenizerFile.Load(Write(LlamaModelBuilder.TokenizerJson(Tokens)));
        Assert.Equal(4, tokenizer.TokenToId("<|im_end|>"));
        Assert.Equal(3, tokenizer.TokenToId("<|im_start|>"));
        Assert.Equal(2, tokenizer.TokenToId("world"));
        Assert.Null(tokenizer.TokenToId("<|im_end|> "));
        Assert.Null(tokenizer.TokenToId("<|eot_id|>"));
    }

    [ChatVector.Tests.TokenizerLibraryFact]
    public void Loads_from_a_model_folder_and_encodes_and_decodes_with_the_tokenizers_library()
    {
        Write(LlamaModelBuilder.TokenizerJson(Tokens));
        using var tokenizer = TokenizerFile.Load(_folder);
        Assert.Equal([3L, 1, 2, 4], tokenizer.Encode("<|im_start|>hello world<|im_end|>"));
        Assert.Equal([0L], tokenizer.Encode("unknown"));
        Assert.Equal("hello world", tokenizer.Decode([1, 2]).Trim());
    }

    [Fact]
    public void Unigram_vocabularies_are_lists_whose_index_is_the_id()
    {
        const string unigram = """
            {"version":"1.0","truncation":null,"padding":null,
             "added_tokens":[{"id":3,"content":"<|end|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
             "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
             "model":{"type":"Unigram","unk_id":0,"vocab":[["<unk>",0.0],["▁a",-1.0],["b",-2.0],["<|end|>",0.0]]}}
            """;
        using var tokenizer = TokenizerFile.Load(Write(unigram));
        Assert.Equal(1, tokenizer.TokenToId("▁a"));
        Assert.Equal(2, tokenizer.TokenToId("b"));
        Assert.Equal(3, tokenizer.TokenToId("<|end|>"));
    }

    [ChatVector.Tests.TokenizerLibraryFact] // "unloadable" is the library's verdict
    public void A_missing_or_unloadable_file_names_the_file()
    {
        var missing = Assert.Throws<TokenizerFileException>(() => TokenizerFile.Load(_folder));
        Assert.Equal(Path.Combine(_folder, TokenizerFile.FileName), missing.FilePath);
        var stub = Assert.Throws<TokenizerFileException>(() => TokenizerFile.Load(Write("{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}")));
        Assert.Contains("not a tokenizer the tokenizers library can load", stub.Message);
        Assert.Throws<TokenizerFileException>(() => TokenizerFile.Load(Write("not json")));
    }
}
