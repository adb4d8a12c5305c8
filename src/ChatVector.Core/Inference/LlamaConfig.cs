using ChatVector.Core.Models;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Inference;

/// <summary>
/// The parts of a LLaMA-family config.json the forward pass needs, with Hugging Face's defaults for
/// what may be left out. Reading it is the first step of any inference, so an unsupported model fails
/// before a single weight is read.
/// </summary>
public sealed record LlamaConfig(
    string Architecture,
    int HiddenSize,
    int IntermediateSize,
    int Layers,
    int Heads,
    int KvHeads,
    int HeadDim,
    int VocabSize,
    double RmsNormEps,
    double RopeTheta,
    RopeScaling? RopeScaling,
    bool TieWordEmbeddings,
    int MaxPositionEmbeddings,
    int? SlidingWindow = null)
{
    public const string FileName = ModelSideFiles.Config;

    /// <summary>The architectures the forward pass implements (the same block, Qwen2 adding q/k/v biases).</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures = ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"];

    /// <summary>Reads <c>config.json</c> from the model's folder (or beside a single file).</summary>
    public static LlamaConfig Read(StoredModel model) => Read(ModelSideFiles.ForInference(model));

    /// <summary>Reads <c>config.json</c> of <paramref name="sideFiles"/>: a malformed one is the side files' error, a missing or incomplete one this one's.</summary>
    public static LlamaConfig Read(ModelSideFiles sideFiles)
    {
        var path = sideFiles.PathOf(FileName);
        var json = sideFiles.ConfigJson
            ?? throw new InferenceException(InferenceProblem.InvalidConfig, $"{path}: no config.json beside the weights; inference needs the model's Hugging Face config.", path);
        return Parse(json, path);
    }

    public static LlamaConfig Parse(JObject json, string path)
    {
        var architecture = (json["architectures"] as JArray)?.FirstOrDefault()?.ToString();
        if (architecture is null || !SupportedArchitectures.Contains(architecture))
            throw new InferenceException(InferenceProblem.UnsupportedArchitecture,
                $"{path}: architecture '{architecture ?? "(none)"}' is not supported; Measure-ChatVectorModel and Invoke-ChatVectorModel run {string.Join(", ", SupportedArchitectures)}.", path);

        int Required(string key) => json[key] is JValue { Type: JTokenType.Integer } v ? (int)v
            : throw new InferenceException(InferenceProblem.InvalidConfig, $"{path}: '{key}' is missing or not an integer.", path);
        int Optional(string key, int fallback) => json[key] is JValue { Type: JTokenType.Integer } v ? (int)v : fallback;
        double Number(string key, double fallback) => json[key] is JValue { Type: JTokenType.Integer or JTokenType.Float } v ? (double)v : fallback;

        int hidden = Required("hidden_size");
        int heads = Optional("num_attention_heads", 32);
        int kvHeads = Optional("num_key_value_heads", heads);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
            throw new InferenceException(InferenceProblem.InvalidConfig, $"{path}: num_attention_heads ({heads}) must be a positive multiple of num_key_value_heads ({kvHeads}).", path);
        int headDim = Optional("head_dim", heads > 0 && hidden % heads == 0 ? hidden / heads : 0);
        if (headDim <= 0 || headDim % 2 != 0)
            throw new InferenceException(InferenceProblem.InvalidConfig, $"{path}: head_dim must be a positive even number (hidden_size {hidden} / num_attention_heads {heads} gives {headDim}).", path);

        return new LlamaConfig(
            architecture,
            hidden,
            Required("intermediate_size"),
            Required("num_hidden_layers"),
            heads,
            kvHeads,
            headDim,
            Required("vocab_size"),
            Number("rms_norm_eps", 1e-6),
            Number("rope_theta", 10000),
            ParseScaling(json["rope_scaling"], path),
            json["tie_word_embeddings"] is JValue { Type: JTokenType.Boolean } tied && (bool)tied,
            Optional("max_position_embeddings", DefaultMaxPositions(architecture)),
            SlidingWindowOf(json, architecture));
    }

    /// <summary>
    /// Mistral's (and Qwen2's, when use_sliding_window) attention window. Full causal attention equals it only
    /// for inputs no longer than the window, so the window caps the input length.
    /// </summary>
    private static int? SlidingWindowOf(JObject json, string architecture)
    {
        if (json["sliding_window"] is not JValue { Type: JTokenType.Integer } window || (int)window <= 0) return null;
        bool used = architecture switch
        {
            "MistralForCausalLM" => true,
            "Qwen2ForCausalLM" => json["use_sliding_window"] is JValue { Type: JTokenType.Boolean } use && (bool)use,
            _ => false,
        };
        return used ? (int)window : null;
    }

    /// <summary>transformers' defaults when max_position_embeddings is left out.</summary>
    private static int DefaultMaxPositions(string architecture) => architecture switch
    {
        "MistralForCausalLM" => 131072,
        "Qwen2ForCausalLM" => 32768,
        _ => 2048,
    };

    private static RopeScaling? ParseScaling(JToken? token, string path)
    {
        if (token is not JObject scaling) return null;
        var type = (scaling["rope_type"] ?? scaling["type"])?.ToString();
        double Get(string key, double fallback) => scaling[key] is JValue { Type: JTokenType.Integer or JTokenType.Float } v ? (double)v : fallback;
        return type switch
        {
            null or "default" => null,
            "linear" => new RopeScaling("linear", Get("factor", 1)),
            "llama3" => new RopeScaling("llama3", Get("factor", 8), Get("low_freq_factor", 1), Get("high_freq_factor", 4), Get("original_max_position_embeddings", 8192)),
            _ => throw new InferenceException(InferenceProblem.UnsupportedArchitecture,
                $"{path}: rope_scaling type '{type}' is not supported; only 'linear' and 'llama3' are.", path),
        };
    }
}
