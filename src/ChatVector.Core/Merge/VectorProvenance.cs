using ChatVector.Core.Models;
using ChatVector.Core.Sparsify;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Merge;

/// <summary>
/// Where a chat vector came from: the two models, and the chat model's chat template and eos token
/// (which the merged model's tokenizer must get), and the tensors left out of it with -SkipMismatched
/// (a merged model's card must list them). Saved with a vector as file metadata.
/// The template is held as its JSON text (a string, or a list of named templates): no Newtonsoft type
/// may appear where the cmdlet assembly, bound to PowerShell's Newtonsoft, can see it.
/// </summary>
public sealed record VectorProvenance(string BaseModel, string ChatModel, string? ChatTemplateJson, string? EosToken)
{
    private const string Prefix = "chatvector.";
    public const string KindKey = Prefix + "kind";
    public const string KindVector = "vector";
    private const string BaseKey = Prefix + "base";
    private const string ChatKey = Prefix + "chat";
    private const string ChatTemplateKey = Prefix + "chat_template";
    private const string EosTokenKey = Prefix + "eos_token";
    private const string SkippedKey = Prefix + "skipped";
    private const string EosTokenIdKey = Prefix + "eos_token_id";
    private const string ChatWithoutTokenizerKey = Prefix + "chat_without_tokenizer";

    /// <summary>Every key <see cref="ToMetadata"/> may write: what an output made from a saved vector carries (see Export/CarriedMetadata).</summary>
    public static readonly IReadOnlyList<string> MetadataKeys = [KindKey, BaseKey, ChatKey, ChatTemplateKey, EosTokenKey, SkippedKey, EosTokenIdKey, ChatWithoutTokenizerKey, SparsifyProvenance.MetadataKey];

    /// <summary>Tensors paired by name but left out of the vector (-SkipMismatched), each with the reason.</summary>
    public IReadOnlyList<string> SkippedTensors { get; init; } = [];

    /// <summary>How Limit-ChatVector sparsified the vector (the <see cref="SparsifyProvenance"/> value), or null.</summary>
    public string? Sparsification { get; init; }

    /// <summary>
    /// The chat model's generation_config.json eos_token_id as JSON text (an id or a list of ids): the merged
    /// model stops where the chat template says a turn ends only if its generation config knows that token.
    /// Text, not a JToken: no Newtonsoft type may be visible to the cmdlet assembly.
    /// </summary>
    public string? EosTokenIdJson { get; init; }

    /// <summary>True when the chat model's tokenizer config gave a chat template or an eos token.</summary>
    public bool HasTokenizerSettings => ChatTemplateJson is not null || EosToken is not null;

    /// <summary>
    /// False when the chat side ships no tokenizer by design (a LoRA adapter without tokenizer_config.json, as adapters
    /// normally are): the output keeps the model's tokenizer settings, and their absence is not worth a warning. A chat
    /// model without them is: it was expected to bring its template.
    /// </summary>
    public bool ExpectsTokenizerSettings { get; init; } = true;

    /// <summary>True when the output keeps the model's tokenizer settings because the chat model unexpectedly has none.</summary>
    public bool LacksExpectedTokenizerSettings => ExpectsTokenizerSettings && !HasTokenizerSettings;

    /// <summary>Reads the chat template and eos token from the chat model's tokenizer_config.json, the eos ids from its generation_config.json.</summary>
    public static VectorProvenance FromModels(StoredModel? @base, StoredModel chat)
    {
        var sideFiles = chat.SideFiles;
        return new VectorProvenance(@base?.Path ?? "", chat.Path, sideFiles?.ChatTemplateJson, sideFiles?.EosToken) { EosTokenIdJson = sideFiles?.EosTokenIdJson };
    }

    /// <summary>String-to-string entries for a safetensors <c>__metadata__</c> (the format allows nothing else).</summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            [KindKey] = KindVector,
            [BaseKey] = BaseModel,
            [ChatKey] = ChatModel,
        };
        if (ChatTemplateJson is not null) metadata[ChatTemplateKey] = ChatTemplateJson;
        if (EosToken is not null) metadata[EosTokenKey] = EosToken;
        if (SkippedTensors.Count > 0) metadata[SkippedKey] = new JArray(SkippedTensors).ToString(Formatting.None);
        if (Sparsification is not null) metadata[SparsifyProvenance.MetadataKey] = Sparsification;
        if (EosTokenIdJson is not null) metadata[EosTokenIdKey] = EosTokenIdJson;
        if (!ExpectsTokenizerSettings) metadata[ChatWithoutTokenizerKey] = "true";
        return metadata;
    }

    /// <summary>The provenance of a saved vector, or null when the metadata does not describe one.</summary>
    public static VectorProvenance? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(KindKey, out var kind) || kind != KindVector) return null;
        var template = metadata.TryGetValue(ChatTemplateKey, out var json) ? TemplateJson(json) : null;
        return new VectorProvenance(
            metadata.GetValueOrDefault(BaseKey, ""),
            metadata.GetValueOrDefault(ChatKey, ""),
            template,
            metadata.GetValueOrDefault(EosTokenKey))
        {
            SkippedTensors = metadata.TryGetValue(SkippedKey, out var skipped) ? ParseSkipped(skipped) : [],
            Sparsification = metadata.GetValueOrDefault(SparsifyProvenance.MetadataKey),
            EosTokenIdJson = metadata.TryGetValue(EosTokenIdKey, out var eosId) ? ParseEosTokenId(eosId) : null,
            ExpectsTokenizerSettings = metadata.GetValueOrDefault(ChatWithoutTokenizerKey) != "true",
        };
    }

    private static IReadOnlyList<string> ParseSkipped(string json)
    {
        try { return JArray.Parse(json).Select(t => t.ToString()).ToList(); }
        catch (JsonException) { return [json]; } // written by hand as a plain string
    }

    /// <summary>An id or a list of ids, as compact JSON; anything else (written by hand) is ignored rather than copied into a config.</summary>
    private static string? ParseEosTokenId(string json)
    {
        try { return JToken.Parse(json) is { Type: JTokenType.Integer or JTokenType.Array } id ? id.ToString(Formatting.None) : null; }
        catch (JsonException) { return null; }
    }

    /// <summary>Normalised JSON text of a saved template.</summary>
    private static string TemplateJson(string json)
    {
        try { return JToken.Parse(json).ToString(Formatting.None); }
        catch (JsonException) { return JsonConvert.ToString(json); } // written by hand as a plain string
    }
}
