using ChatVector.Core.Inference;
using ChatVector.Tests.Shared;
using Xunit;

namespace ChatVector.Core.Tests.Inference;

/// <summary>tokenizer.json through the Hugging Face tokenizers library (its native library from the package).</summary>
public sealed class TextTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [ChatVector.Tests.TokenizerLibraryFact]
    public void Encodes_a_word_level_vocabulary_and_decodes_it_back()
    {
        WordLevelTokenizer.Write(Path.Combine(_dir, "tokenizer.json"), ["<unk>", "<s>", "</s>"], ["the", "cat", "sat", ".", "on", "mat"]);
        using var tokenizer = TextTokenizer.Open(_dir);
        var ids = tokenizer.Encode("the cat sat on the mat.");
        Assert.Equal([3L, 4, 5, 7, 3, 8, 6], ids);
        Assert.Equal("the cat sat on the mat .", tokenizer.Decode(ids));
        Assert.Equal([1L, 3, 2], tokenizer.Encode("<s>the</s>"));
        Assert.Equal([0L], tokenizer.Encode("dog"));
    }

    [ChatVector.Tests.TokenizerLibraryFact]
    public void A_post_processor_bos_is_added_once_and_not_doubled_for_a_formatted_chat()
    {
        WordLevelTokenizer.Write(Path.Combine(_dir, "tokenizer.json"), ["<unk>", "<s>", "</s>"], ["the", "cat"]);
        // Add a TemplateProcessing post-processor that prefixes <s>, as LLaMA tokenizers have.
        var path = Path.Combine(_dir, "tokenizer.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["post_processor"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
            """);
        File.WriteAllText(path, json.ToJsonString());
        using var tokenizer = TextTokenizer.Open(_dir);
        Assert.Equal([1L, 3, 4], tokenizer.Encode("the cat"));
        Assert.Equal([1L, 3, 4], tokenizer.EncodeFormatted("<s> the cat"));
        Assert.Equal([1L, 3, 4], tokenizer.EncodeFormatted("the cat"));
        Assert.Equal("the cat", tokenizer.Decode([1L, 3, 4, 2]));
    }
}
