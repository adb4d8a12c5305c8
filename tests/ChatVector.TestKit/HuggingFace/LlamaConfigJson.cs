using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatVector.TestKit;

/// <summary>
/// config.json of a LLaMA-family model: the one writer of it in the tests, benchmarks and trainers. Keys come in
/// transformers' order (as LlamaConfig's to_json writes them); a key left null is not written, unless
/// <see cref="Complete"/> asks for every key (null where unset), as a saved transformers config has.
/// </summary>
public sealed record LlamaConfigJson
{
    public string Architecture { get; init; } = "LlamaForCausalLM";
    public string? ModelType { get; init; }
    public int? VocabSize { get; init; }
    public int? HiddenSize { get; init; }
    public int? IntermediateSize { get; init; }
    public int? HiddenLayers { get; init; }
    public int? AttentionHeads { get; init; }
    public int? KeyValueHeads { get; init; }
    public int? HeadDim { get; init; }
    public string? HiddenAct { get; init; }
    public int? MaxPositionEmbeddings { get; init; }
    public double? RmsNormEps { get; init; }
    public double? RopeTheta { get; init; }
    public JsonObject? RopeScaling { get; init; }
    public bool? AttentionBias { get; init; }
    public bool? MlpBias { get; init; }
    public bool? TieWordEmbeddings { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    public int? PadTokenId { get; init; }
    public string? TorchDtype { get; init; }
    /// <summary>Write every key, null where unset.</summary>
    public bool Complete { get; init; }

    public const string FileName = "config.json";

    /// <summary>The dimensions' keys: vocabulary, hidden, intermediate, layers, heads, kv heads, head_dim when given
    /// explicitly, and tie_word_embeddings.</summary>
    public static LlamaConfigJson Of(LlamaDimensions d) => new()
    {
        VocabSize = d.Vocab,
        HiddenSize = d.Hidden,
        IntermediateSize = d.Intermediate,
        HiddenLayers = d.Layers,
        AttentionHeads = d.Heads,
        KeyValueHeads = d.KvHeads,
        HeadDim = d.HeadDimOverride,
        TieWordEmbeddings = d.Tied,
    };

    public string ToJson(JsonSerializerOptions? options = null)
    {
        var json = new JsonObject();
        void Add(string key, JsonNode? value)
        {
            if (value is not null || Complete) json[key] = value;
        }
        Add("architectures", new JsonArray(Architecture));
        Add("model_type", ModelType);
        Add("vocab_size", VocabSize);
        Add("hidden_size", HiddenSize);
        Add("intermediate_size", IntermediateSize);
        Add("num_hidden_layers", HiddenLayers);
        Add("num_attention_heads", AttentionHeads);
        Add("num_key_value_heads", KeyValueHeads);
        Add("head_dim", HeadDim);
        Add("hidden_act", HiddenAct);
        Add("max_position_embeddings", MaxPositionEmbeddings);
        Add("rms_norm_eps", RmsNormEps);
        Add("rope_theta", RopeTheta);
        Add("rope_scaling", RopeScaling?.DeepClone());
        Add("attention_bias", AttentionBias);
        Add("mlp_bias", MlpBias);
        Add("tie_word_embeddings", TieWordEmbeddings);
        Add("bos_token_id", BosTokenId);
        Add("eos_token_id", EosTokenId);
        Add("pad_token_id", PadTokenId);
        Add("torch_dtype", TorchDtype);
        return json.ToJsonString(options);
    }

    /// <summary>Writes <c>config.json</c> into <paramref name="folder"/>.</summary>
    public void Write(string folder, JsonSerializerOptions? options = null) =>
        File.WriteAllText(Path.Combine(folder, FileName), ToJson(options));
}
