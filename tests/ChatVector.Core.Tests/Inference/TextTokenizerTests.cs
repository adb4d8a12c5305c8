using ChatVector.Core.Inference;
using ChatVector.Tests.Shared;
using Xunit;

namespace ChatVector.Core.Tests.Inference;

/// <summary>tokenizer.json through the Hugging Face tokenizers library (its native library from the package).</summary>
public sealed class TextTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
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
}
