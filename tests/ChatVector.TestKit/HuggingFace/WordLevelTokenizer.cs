using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatVector.TestKit;

/// <summary>
/// Writes a real Hugging Face tokenizer.json of the simplest kind: a word-level vocabulary split on
/// whitespace (and, by default, punctuation), with special tokens as added tokens. The tokenizers library
/// loads it like any other.
/// </summary>
public static class WordLevelTokenizer
{
    public const string FileName = "tokenizer.json";

    /// <summary>Writes the tokenizer of <paramref name="specials"/> (added tokens, also in the vocabulary; the first is
    /// the unknown token) then <paramref name="words"/> (duplicates dropped): ids in that order.</summary>
    public static void Write(string path, IReadOnlyList<string> specials, IEnumerable<string> words)
    {
        var tokens = specials.Select(t => (t, true)).ToList();
        var seen = new HashSet<string>(specials, StringComparer.Ordinal);
        foreach (var word in words)
            if (seen.Add(word)) tokens.Add((word, false));
        File.WriteAllText(path, Json(tokens, unkToken: specials[0], specialsInVocab: true));
    }

    /// <summary>
    /// The tokenizer.json text for <paramref name="tokens"/> in id order; special ones are added tokens, and
    /// also vocabulary entries when <paramref name="specialsInVocab"/> (both shapes occur in real files).
    /// <paramref name="preTokenizer"/>: Whitespace splits on whitespace and punctuation (<see cref="Words"/>),
    /// WhitespaceSplit on whitespace only.
    /// </summary>
    public static string Json(IReadOnlyList<(string Token, bool Special)> tokens, string unkToken, bool specialsInVocab,
        string preTokenizer = "Whitespace", JsonSerializerOptions? options = null)
    {
        var vocab = new JsonObject();
        var added = new JsonArray();
        for (int id = 0; id < tokens.Count; id++)
        {
            var (token, special) = tokens[id];
            if (special)
                added.Add(new JsonObject
                {
                    ["id"] = id, ["content"] = token, ["single_word"] = false, ["lstrip"] = false,
                    ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
                });
            if (!special || specialsInVocab) vocab[token] = id;
        }
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = preTokenizer },
            ["post_processor"] = null,
            ["decoder"] = null,
            ["model"] = new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = unkToken },
        }.ToJsonString(options);
    }

    /// <summary>The words of a text as the Whitespace pre-tokenizer splits it (runs of word characters, runs of other non-space characters).</summary>
    public static IEnumerable<string> Words(string text) =>
        System.Text.RegularExpressions.Regex.Matches(text, @"\w+|[^\w\s]+").Select(m => m.Value);
}
