using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatVector.Core.Tokenization;

/// <summary>An added token of a tokenizer.json (its <c>added_tokens</c> entry): the text and how the tokenizer matches it.</summary>
public sealed record AddedToken(string Content, bool Special, bool Normalized, bool LStrip = false, bool RStrip = false, bool SingleWord = false)
{
    /// <summary>A token added as text alone (transformers' <c>add_tokens("text")</c>): not special, matched on normalized text.</summary>
    public static AddedToken Plain(string content) => new(content, Special: false, Normalized: true);
}

/// <summary>
/// Reading and extending a tokenizer.json's added tokens: a vocabulary grown by tokens appended after its last id, as
/// transformers' <c>add_tokens</c> does, everything else of the file kept as it is.
/// </summary>
public static class AddedTokens
{
    /// <summary>The added tokens of <paramref name="tokenizerJson"/> by text.</summary>
    /// <exception cref="TokenizerFileException">not a readable tokenizer.json.</exception>
    public static IReadOnlyDictionary<string, AddedToken> Read(string tokenizerJson)
    {
        var added = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        if (Parse(tokenizerJson)["added_tokens"] is JsonArray entries)
            foreach (var entry in entries.OfType<JsonObject>())
                if (entry["content"]?.GetValue<string>() is { } content)
                    added.TryAdd(content, new AddedToken(content, Flag(entry, "special"), Flag(entry, "normalized", !Flag(entry, "special")),
                        Flag(entry, "lstrip"), Flag(entry, "rstrip"), Flag(entry, "single_word")));
        return added;
    }

    /// <summary>
    /// The text of <paramref name="tokenizerJson"/> with <paramref name="tokens"/> appended to its added tokens, the
    /// first at id <paramref name="firstId"/>, the next ones after it.
    /// </summary>
    public static string Append(string tokenizerJson, IEnumerable<AddedToken> tokens, long firstId)
    {
        var root = Parse(tokenizerJson);
        if (root["added_tokens"] is not JsonArray entries) root["added_tokens"] = entries = new JsonArray();
        long id = firstId;
        foreach (var token in tokens)
            entries.Add(new JsonObject
            {
                ["id"] = id++, ["content"] = token.Content, ["single_word"] = token.SingleWord, ["lstrip"] = token.LStrip,
                ["rstrip"] = token.RStrip, ["normalized"] = token.Normalized, ["special"] = token.Special,
            });
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static bool Flag(JsonObject entry, string name, bool absent = false) =>
        entry[name] is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag : absent;

    private static JsonObject Parse(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new TokenizerFileException(TokenizerProblem.TokenizerFailed, path, "tokenizer.json is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new TokenizerFileException(TokenizerProblem.TokenizerFailed, path, $"it is not valid JSON{Format.JsonProblems.Where(e)}.", e);
        }
        catch (IOException e)
        {
            throw new TokenizerFileException(TokenizerProblem.TokenizerMissing, path, $"cannot be read: {e.Message}", e);
        }
    }
}
