using System.Text.Json.Nodes;

namespace ToyChatVector;

/// <summary>The tiny LLaMA's shape, written as a transformers LlamaForCausalLM config.json.</summary>
public sealed record ToyModelConfig(int VocabSize, int Hidden, int Intermediate, int Layers, int Heads, int KvHeads)
{
    public const int MaxPositions = 128;
    public const double RopeTheta = 10000.0;
    public const double RmsNormEps = 1e-5;
    public int HeadDim => Hidden / Heads;

    public string ConfigJson(ToyVocabulary vocabulary) => new JsonObject
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = Hidden,
        ["intermediate_size"] = Intermediate,
        ["num_hidden_layers"] = Layers,
        ["num_attention_heads"] = Heads,
        ["num_key_value_heads"] = KvHeads,
        ["head_dim"] = HeadDim,
        ["hidden_act"] = "silu",
        ["max_position_embeddings"] = MaxPositions,
        ["rms_norm_eps"] = RmsNormEps,
        ["rope_theta"] = RopeTheta,
        ["rope_scaling"] = null,
        ["attention_bias"] = false,
        ["mlp_bias"] = false,
        ["tie_word_embeddings"] = false,
        ["bos_token_id"] = null,
        ["eos_token_id"] = vocabulary.EosId,
        ["pad_token_id"] = vocabulary.PadId,
        ["torch_dtype"] = "float32",
    }.ToJsonString(Json.Options);

    public static string GenerationConfigJson(ToyVocabulary vocabulary) => new JsonObject
    {
        ["eos_token_id"] = vocabulary.EosId,
        ["pad_token_id"] = vocabulary.PadId,
        ["do_sample"] = false,
    }.ToJsonString(Json.Options);
}
