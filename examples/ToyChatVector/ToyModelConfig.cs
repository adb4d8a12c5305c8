using ChatVector.TestKit;
using ChatVector.TestKit.Training;

namespace ToyChatVector;

/// <summary>The toy models' constants, their <see cref="TinyLlamaConfig"/>, and their config.json and
/// generation_config.json (a complete transformers LlamaForCausalLM config, from the test kit's writer).</summary>
public static class ToyModelConfig
{
    public const int MaxPositions = 128;
    public const double RopeTheta = 10000.0;
    public const double RmsNormEps = 1e-5;

    public static TinyLlamaConfig For(int vocabSize, int hidden, int intermediate, int layers, int heads, int kvHeads) =>
        new(new LlamaDimensions(vocabSize, hidden, intermediate, layers, heads, kvHeads), RmsNormEps, RopeTheta);

    public static string ConfigJson(TinyLlamaConfig config, ToyVocabulary vocabulary) => (config.ConfigJson() with
    {
        ModelType = "llama",
        HeadDim = config.Dimensions.HeadDim,
        HiddenAct = "silu",
        MaxPositionEmbeddings = MaxPositions,
        AttentionBias = false,
        MlpBias = false,
        EosTokenId = vocabulary.EosId,
        PadTokenId = vocabulary.PadId,
        TorchDtype = "float32",
        Complete = true,
    }).ToJson(Json.Options);

    public static string GenerationConfigJson(ToyVocabulary vocabulary) => new System.Text.Json.Nodes.JsonObject
    {
        ["eos_token_id"] = vocabulary.EosId,
        ["pad_token_id"] = vocabulary.PadId,
        ["do_sample"] = false,
    }.ToJsonString(Json.Options);
}
