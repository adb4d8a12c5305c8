using ChatVector.Core.Tokenization;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.Tokenization;

/// <summary>
/// The one tokenizer.json wrapper: token lookups from the JSON alone, encoding and decoding through the Hugging Face
/// tokenizers library (its native library from the package), and one error type for all of it.
/// </summary>
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

    /// <summary>What the module meets where libhf_tokenizers is not shipped (win-x64): loading it fails as a missing DLL does.</summary>
    private static Tokenizers.DotNet.Tokenizer NoLibrary(string file) => throw new DllNotFoundException("Unable to load shared library 'hf_tokenizers'");

    [Fact]
    public void Finds_added_tokens_and_vocabulary_tokens_by_exact_text()
    {
        using var tokenizer = TokenizerFile.Load(Write(LlamaModelBuilder.TokenizerJson(Tokens)), NoLibrary);
        Assert.Equal(4, tokenizer.TokenToId("<|im_end|>"));
        Assert.Equal(3, tokenizer.TokenToId("<|im_start|>"));
        Assert.Equal(2, tokenizer.TokenToId("world"));
        Assert.Null(tokenizer.TokenToId("<|im_end|> "));
        Assert.Null(tokenizer.TokenToId("<|eot_id|>"));
    }

    [Fact]
    public void Special_token_ids_come_from_tokenizer_json_without_the_native_library()
    {
        Write(LlamaModelBuilder.TokenizerJson(Tokens));
        int libraryCalls = 0;
        using (var opened = TokenizerFile.Open(_folder, file => { libraryCalls++; return NoLibrary(file); }))
        {
            Assert.Equal(4, opened.TokenToId("<|im_end|>"));
            Assert.Equal(3, opened.TokenToId("<|im_start|>"));
            Assert.Equal(0, libraryCalls); // the lookup never calls into Tokenizers.DotNet
        }

        // Loading checks the file with the library where it loads; where it does not, the lookups still work
        // and only text in or out is refused, with the error that says why.
        using var loaded = TokenizerFile.Load(_folder, NoLibrary);
        Assert.Equal(4, loaded.TokenToId("<|im_end|>"));
        var e = Assert.Throws<TokenizerFileException>(() => loaded.Encode("hello"));
        Assert.Equal(TokenizerProblem.TokenizerLibraryMissing, e.Problem);
        Assert.Equal(Path.Combine(_folder, TokenizerFile.FileName), e.FilePath);
        Assert.Contains("hf_tokenizers", e.Message);
        Assert.Contains("-TokenIds", e.Message);
        Assert.Equal(TokenizerProblem.TokenizerLibraryMissing, Assert.Throws<TokenizerFileException>(() => loaded.Decode([1, 2])).Problem);
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
        using var tokenizer = TokenizerFile.Load(Write(unigram), NoLibrary);
        Assert.Equal(1, tokenizer.TokenToId("▁a"));
        Assert.Equal(2, tokenizer.TokenToId("b"));
        Assert.Equal(3, tokenizer.TokenToId("<|end|>"));
    }

    [Fact]
    public void A_missing_file_or_unreadable_vocabulary_is_one_error_type_naming_the_file()
    {
        var file = Path.Combine(_folder, TokenizerFile.FileName);
        var missing = Assert.Throws<TokenizerFileException>(() => TokenizerFile.Load(_folder, NoLibrary));
        Assert.Equal(TokenizerProblem.TokenizerMissing, missing.Problem);
        Assert.Equal(file, missing.FilePath);
        using (var opened = TokenizerFile.Open(_folder, NoLibrary))
        {
            var forText = Assert.Throws<TokenizerFileException>(() => opened.Encode("hello"));
            Assert.Equal(TokenizerProblem.TokenizerMissing, forText.Problem);
            Assert.Contains("-TokenIds", forText.Message);
        }

        Write("not json");
        var notJson = Assert.Throws<TokenizerFileException>(() => TokenizerFile.Load(_folder, NoLibrary));
        Assert.Equal(TokenizerProblem.TokenizerFailed, notJson.Problem);
        Assert.StartsWith($"{file}: its vocabulary cannot be read: it is not valid JSON at line 1", notJson.Message);
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

    [ChatVector.Tests.TokenizerLibraryFact] // "unloadable" is the library's verdict
    public void A_file_the_library_refuses_names_the_file()
    {
        var stub = Assert.Throws<TokenizerFileException>(() => TokenizerFile.Load(Write("{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}")));
        Assert.Equal(TokenizerProblem.TokenizerFailed, stub.Problem);
        Assert.Contains("not a tokenizer the tokenizers library can load", stub.Message);
        Assert.Equal(TokenizerProblem.TokenizerFailed, Assert.Throws<TokenizerFileException>(() => TokenizerFile.Load(Write("not json"))).Problem);
    }

    [ChatVector.Tests.TokenizerLibraryFact]
    public void Encodes_a_word_level_vocabulary_and_decodes_it_back()
    {
        WordLevelTokenizer.Write(Path.Combine(_folder, TokenizerFile.FileName), ["<unk>", "<s>", "</s>"], ["the", "cat", "sat", ".", "on", "mat"]);
        using var tokenizer = TokenizerFile.Open(_folder);
        var ids = tokenizer.Encode("the cat sat on the mat.");
        Assert.Equal([3L, 4, 5, 7, 3, 8, 6], ids);
        Assert.Equal("the cat sat on the mat .", tokenizer.Decode(ids));
        Assert.Equal([1L, 3, 2], tokenizer.Encode("<s>the</s>"));
        Assert.Equal([0L], tokenizer.Encode("dog"));
    }

    [ChatVector.Tests.TokenizerLibraryFact]
    public void A_post_processor_bos_is_added_once_and_not_doubled_for_a_formatted_chat()
    {
        var path = Path.Combine(_folder, TokenizerFile.FileName);
        WordLevelTokenizer.Write(path, ["<unk>", "<s>", "</s>"], ["the", "cat"]);
        // Add a TemplateProcessing post-processor that prefixes <s>, as LLaMA tokenizers have.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["post_processor"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
            """);
        File.WriteAllText(path, json.ToJsonString());
        using var tokenizer = TokenizerFile.Open(_folder);
        Assert.Equal([1L, 3, 4], tokenizer.Encode("the cat"));
        Assert.Equal([1L, 3, 4], tokenizer.EncodeFormatted("<s> the cat"));
        Assert.Equal([1L, 3, 4], tokenizer.EncodeFormatted("the cat"));
        Assert.Equal("the cat", tokenizer.Decode([1L, 3, 4, 2]));
    }
}
