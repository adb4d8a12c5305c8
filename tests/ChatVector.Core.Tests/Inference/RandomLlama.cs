using System.Text.Json.Nodes;
using ChatVector.Tests.Shared;

namespace ChatVector.Core.Tests.Inference;

/// <summary>
/// A small LLaMA-shaped model with random weights, written as a Hugging Face folder (config.json and
/// safetensors by the independent writer), its values kept for the plain reference computation.
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

    public IEnumerable<(string Name, int[] Shape)> Shapes()
    {
        int q = Heads * HeadDim, kv = KvHeads * HeadDim;
        yield return ("model.embed_tokens.weight", [Vocab, Hidden]);
        for (int i = 0; i < Layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return (p + "input_layernorm.weight", [Hidden]);
            yield return (p + "self_attn.q_proj.weight", [q, Hidden]);
            yield return (p + "self_attn.k_proj.weight", [kv, Hidden]);
            yield return (p + "self_attn.v_proj.weight", [kv, Hidden]);
            if (Biases)
            {
                yield return (p + "self_attn.q_proj.bias", [q]);
                yield return (p + "self_attn.k_proj.bias", [kv]);
                yield return (p + "self_attn.v_proj.bias", [kv]);
            }
            yield return (p + "self_attn.o_proj.weight", [Hidden, q]);
            yield return (p + "post_attention_layernorm.weight", [Hidden]);
            yield return (p + "mlp.gate_proj.weight", [Intermediate, Hidden]);
            yield return (p + "mlp.up_proj.weight", [Intermediate, Hidden]);
            yield return (p + "mlp.down_proj.weight", [Hidden, Intermediate]);
        }
        yield return ("model.norm.weight", [Hidden]);
        if (!Tied) yield return ("lm_head.weight", [Vocab, Hidden]);
    }

    public string Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(Seed);
        var entries = new List<(string, string, long[], byte[])>();
        foreach (var (name, shape) in Shapes())
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            bool norm = name.EndsWith("norm.weight", StringComparison.Ordinal);
            var values = Enumerable.Range(0, n).Select(_ => norm ? 1 + (random.NextSingle() - 0.5f) * 0.4f : (random.NextSingle() - 0.5f) * 0.8f).ToArray();
            if (Bf16Weights) values = values.Select(v => Bf16.ToFloat(Bf16.FromFloat(v))).ToArray();
            Values[name] = values;
            var bytes = Bf16Weights ? LlamaModelBuilder.Bf16Bytes(values) : values.SelectMany(BitConverter.GetBytes).ToArray();
            entries.Add((name, Bf16Weights ? "BF16" : "F32", shape.Select(d => (long)d).ToArray(), bytes));
        }
        LlamaModelBuilder.WriteFile(Path.Combine(folder, "model.safetensors"), entries);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["num_key_value_heads"] = KvHeads,
            ["vocab_size"] = Vocab,
            ["rms_norm_eps"] = Eps,
            ["rope_theta"] = RopeTheta,
            ["max_position_embeddings"] = MaxPositions,
            ["tie_word_embeddings"] = Tied,
        };
        if (HeadDimOverride is { } hd) config["head_dim"] = hd;
        if (RopeScaling is not null) config["rope_scaling"] = RopeScaling.DeepClone();
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), "{\"eos_token_id\": [3, 5]}");
        return folder;
    }
}
