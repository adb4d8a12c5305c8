using System.Text.Json.Nodes;

namespace ChatVector.Tests.Shared;

/// <summary>
/// Writes a real Hugging Face tokenizer.json of the simplest kind: a word-level vocabulary split on
/// whitespace and punctuation, with special tokens as added tokens. The tokenizers library loads it like
/// any other; ids are the order of <c>specials</c> then <c>words</c>.
/// </summary>
public static class WordLevelTokenizer
{
    public static void Write(string path, IReadOnlyList<string> specials, IEnumerable<string> words)
    {
        var vocab = new JsonObject();
        var added = new JsonArray();
        int id = 0;
        foreach (var special in specials)
        {
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = special, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
            vocab[special] = id++;
        }
        foreach (var word in words.Distinct(StringComparer.Ordinal))
            if (!vocab.ContainsKey(word)) vocab[word] = id++;
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Whitespace" },
            ["post_processor"] = null,
            ["decoder"] = null,
            ["model"] = new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = specials[0] },
        };
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>The words of a text as the Whitespace pre-tokenizer splits it (runs of word characters, runs of other non-space characters).</summary>
    public static IEnumerable<string> Words(string text) =>
        System.Text.RegularExpressions.Regex.Matches(text, @"\w+|[^\w\s]+").Select(m => m.Value);
}
