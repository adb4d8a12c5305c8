using System.Text.Json.Nodes;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;

namespace ChatVector.Core.Tests.Inference;

/// <summary>
/// A small LLaMA-shaped model with random weights, written as a Hugging Face folder (config.json and
/// safetensors by the test kit), its values kept for the plain reference computation.
/// </summary>
internal sealed class RandomLlama
{
    public string Architecture { get; init; } = "LlamaForCausalLM";
    public int Hidden { get; init; } = 16;
    public int Intermediate { get; init; } = 20;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    /// <summary>Explicit head_dim in config.json (else hidden / heads).</summary>
    public int? HeadDimOverride { get; init; }
    public int Vocab { get; init; } = 29;
    public bool Tied { get; init; }
    /// <summary>q/k/v biases (as Qwen2 has).</summary>
    public bool Biases { get; init; }
    public double RopeTheta { get; init; } = 10000;
    /// <summary>config.json's rope_scaling object, or null.</summary>
    public JsonObject? RopeScaling { get; init; }
    public double Eps { get; init; } = 1e-5;
    public int MaxPositions { get; init; } = 64;
    public int Seed { get; init; } = 7;
    /// <summary>Store weights as BF16 (else F32); values are kept exactly as stored.</summary>
    public bool Bf16Weights { get; init; }

    public int HeadDim => HeadDimOverride ?? Hidden / Heads;
    public Dictionary<string, float[]> Values { get; } = new(StringComparer.Ordinal);

    public LlamaDimensions Dimensions =>
        new(Vocab, Hidden, Intermediate, Layers, Heads, KvHeads) { HeadDimOverride = HeadDimOverride, Tied = Tied, QkvBiases = Biases };

    public string Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(Seed);
        var entries = new List<(string, string, long[], byte[])>();
        // Drawn in the order the forward pass uses the weights, biases after q, k and v.
        foreach (var (name, shape) in LlamaWeights.Of(Dimensions, LlamaWeightOrder.Forward))
        {
            int n = (int)shape.Aggregate(1L, (a, b) => a * b);
            bool norm = LlamaWeights.IsNorm(name);
            var values = Enumerable.Range(0, n).Select(_ => norm ? 1 + (random.NextSingle() - 0.5f) * 0.4f : (random.NextSingle() - 0.5f) * 0.8f).ToArray();
            if (Bf16Weights) values = values.Select(v => Bf16.ToFloat(Bf16.FromFloat(v))).ToArray();
            Values[name] = values;
            entries.Add((name, Bf16Weights ? "BF16" : "F32", shape, Bf16Weights ? TensorBytes.Bf16(values) : TensorBytes.F32(values)));
        }
        SafeTensorsWriter.Write(Path.Combine(folder, ModelFolder.SingleFile), entries);
        (LlamaConfigJson.Of(Dimensions) with
        {
            Architecture = Architecture,
            RmsNormEps = Eps,
            RopeTheta = RopeTheta,
            MaxPositionEmbeddings = MaxPositions,
            RopeScaling = RopeScaling,
        }).Write(folder);
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), "{\"eos_token_id\": [3, 5]}");
        return folder;
    }
}
