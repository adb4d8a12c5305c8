using System.Text.Json.Nodes;
using ChatVector.TestKit;

namespace ToyChatVector;

/// <summary>
/// The word-level vocabulary shared by all four models: the chat-format special tokens, the stop mark,
/// then A's words and B's words. Written as a Hugging Face tokenizer.json (WordLevel model, whitespace
/// pre-tokenizer, the special tokens as added tokens), so any tokenizers implementation reads it.
/// </summary>
public sealed class ToyVocabulary
{
    public const string Pad = "<pad>", Unknown = "<unk>", User = "<user>", Assistant = "<assistant>", Eos = "<eos>";
    private static readonly string[] Specials = [Pad, Unknown, User, Assistant, Eos];

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _tokens = [];

    public ToyVocabulary()
    {
        foreach (var token in Specials.Append(ToyLanguage.Stop).Concat(ToyLanguage.A.Words).Concat(ToyLanguage.B.Words))
        {
            if (_ids.ContainsKey(token))
                throw new InvalidOperationException($"Token '{token}' occurs twice: the two lexicons must not share a word.");
            _ids[token] = _tokens.Count;
            _tokens.Add(token);
        }
    }

    public int Count => _tokens.Count;
    public int PadId => _ids[Pad];
    public int UserId => _ids[User];
    public int AssistantId => _ids[Assistant];
    public int EosId => _ids[Eos];
    public bool IsSpecial(int id) => id < Specials.Length;
    public string Token(int id) => _tokens[id];

    /// <summary>Ids of whitespace-separated text, the way the written tokenizer.json encodes it.</summary>
    public int[] Encode(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(word => _ids.TryGetValue(word, out var id) ? id : _ids[Unknown]).ToArray();

    public int[] Encode(IEnumerable<string> words) => words.Select(word => _ids[word]).ToArray();

    public string Decode(IEnumerable<int> ids) => string.Join(' ', ids.Select(id => _tokens[id]));

    /// <summary>tokenizer.json in the Hugging Face tokenizers format (the test kit's word-level writer): the special
    /// tokens as added tokens and in the vocabulary, split on whitespace only.</summary>
    public string TokenizerJson() =>
        WordLevelTokenizer.Json(_tokens.Select((token, id) => (token, IsSpecial(id))).ToList(), Unknown, specialsInVocab: true,
            preTokenizer: "WhitespaceSplit", Json.Options);

    /// <summary>tokenizer_config.json: the special tokens and a chat template describing the toy format.</summary>
    public string TokenizerConfigJson()
    {
        var decoder = new JsonObject();
        foreach (var special in Specials)
            decoder[_ids[special].ToString()] = new JsonObject
            {
                ["content"] = special, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            };
        var root = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["added_tokens_decoder"] = decoder,
            ["eos_token"] = Eos,
            ["pad_token"] = Pad,
            ["unk_token"] = Unknown,
            ["bos_token"] = null,
            ["model_max_length"] = ToyModelConfig.MaxPositions,
            ["clean_up_tokenization_spaces"] = false,
            ["chat_template"] = ChatFormat.JinjaTemplate,
        };
        return root.ToJsonString(Json.Options);
    }

    /// <summary>Loads <paramref name="tokenizerJson"/> with the Hugging Face tokenizers library (Rust, through
    /// Tokenizers.DotNet) and checks it encodes <paramref name="samples"/> exactly as <see cref="Encode(string)"/>
    /// does and decodes them back. Throws naming the first sample that differs.</summary>
    public void VerifyWithTokenizersLibrary(string tokenizerJson, IEnumerable<string> samples)
    {
        using var tokenizer = new Tokenizers.DotNet.Tokenizer(tokenizerJson);
        foreach (var sample in samples)
        {
            var expected = Encode(sample);
            var actual = tokenizer.Encode(sample).Select(id => (int)id).ToArray();
            if (!expected.SequenceEqual(actual))
                throw new InvalidOperationException(
                    $"{tokenizerJson}: the tokenizers library encodes '{sample}' as [{string.Join(',', actual)}], expected [{string.Join(',', expected)}].");
            var plain = expected.Where(id => !IsSpecial(id)).ToArray();
            var decoded = tokenizer.Decode(plain.Select(id => (uint)id).ToArray());
            if (decoded != Decode(plain))
                throw new InvalidOperationException($"{tokenizerJson}: the tokenizers library decodes '{sample}' as '{decoded}'.");
        }
    }
}
