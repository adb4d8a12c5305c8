using TorchSharp;
using static TorchSharp.torch;

namespace ToyChatVector;

/// <summary>
/// A LLaMA decoder as plain named parameters, named and shaped exactly as transformers' LlamaForCausalLM
/// (so a safetensors file of them is a Hugging Face checkpoint), with the forward pass as transformers computes it
/// (docs/inference.md lists the facts): RMSNorm, rotate-half rotary embeddings, grouped-query attention,
/// SwiGLU MLP, untied LM head.
/// </summary>
public sealed class ToyLlama : IDisposable
{
    public ToyModelConfig Config { get; }
    public Dictionary<string, Tensor> Weights { get; }

    private ToyLlama(ToyModelConfig config, Dictionary<string, Tensor> weights)
    {
        Config = config;
        Weights = weights;
    }

    /// <summary>The names and shapes of every weight, in transformers' naming.</summary>
    public static IEnumerable<(string Name, long[] Shape)> Layout(ToyModelConfig c)
    {
        yield return ("model.embed_tokens.weight", [c.VocabSize, c.Hidden]);
        for (int l = 0; l < c.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            yield return (p + "self_attn.q_proj.weight", [c.Heads * c.HeadDim, c.Hidden]);
            yield return (p + "self_attn.k_proj.weight", [c.KvHeads * c.HeadDim, c.Hidden]);
            yield return (p + "self_attn.v_proj.weight", [c.KvHeads * c.HeadDim, c.Hidden]);
            yield return (p + "self_attn.o_proj.weight", [c.Hidden, c.Heads * c.HeadDim]);
            yield return (p + "mlp.gate_proj.weight", [c.Intermediate, c.Hidden]);
            yield return (p + "mlp.up_proj.weight", [c.Intermediate, c.Hidden]);
            yield return (p + "mlp.down_proj.weight", [c.Hidden, c.Intermediate]);
            yield return (p + "input_layernorm.weight", [c.Hidden]);
            yield return (p + "post_attention_layernorm.weight", [c.Hidden]);
        }
        yield return ("model.norm.weight", [c.Hidden]);
        yield return ("lm_head.weight", [c.VocabSize, c.Hidden]);
    }

    /// <summary>Fresh weights as transformers initialises them: normal(0, 0.02), norms at one.
    /// Uses torch's generator, so call torch.manual_seed first for a reproducible model.</summary>
    public static ToyLlama Initialise(ToyModelConfig config)
    {
        var weights = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in Layout(config))
        {
            var tensor = name.EndsWith("norm.weight", StringComparison.Ordinal) ? ones(shape) : randn(shape) * 0.02f;
            weights[name] = new TorchSharp.Modules.Parameter(tensor, requires_grad: true);
        }
        return new ToyLlama(config, weights);
    }

    /// <summary>A trainable copy of these weights (the start of fine-tuning or continued pre-training).</summary>
    public ToyLlama Clone() =>
        new(Config, Weights.ToDictionary(kv => kv.Key, kv => (Tensor)new TorchSharp.Modules.Parameter(kv.Value.detach().clone(), requires_grad: true)));

    public static ToyLlama FromWeights(ToyModelConfig config, Dictionary<string, Tensor> weights)
    {
        foreach (var (name, shape) in Layout(config))
        {
            if (!weights.TryGetValue(name, out var tensor))
                throw new InvalidDataException($"The model has no tensor '{name}'.");
            if (!tensor.shape.SequenceEqual(shape))
                throw new InvalidDataException($"'{name}' has shape [{string.Join(',', tensor.shape)}], expected [{string.Join(',', shape)}].");
        }
        return new ToyLlama(config, weights);
    }

    /// <summary>Logits (batch, T, vocab) for token ids (batch, T), positions 0..T-1.</summary>
    public Tensor Forward(Tensor ids)
    {
        var c = Config;
        long batch = ids.shape[0], length = ids.shape[1];
        var (cos, sin) = Rotary(length, c.HeadDim);
        var mask = ones(length, length, dtype: ScalarType.Bool).triu(1);
        var x = Weights["model.embed_tokens.weight"].index_select(0, ids.reshape(-1)).reshape(batch, length, c.Hidden);
        for (int l = 0; l < c.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            var n = RmsNorm(x, Weights[p + "input_layernorm.weight"]);
            var q = Project(n, p + "self_attn.q_proj.weight").reshape(batch, length, c.Heads, c.HeadDim).transpose(1, 2);
            var k = Project(n, p + "self_attn.k_proj.weight").reshape(batch, length, c.KvHeads, c.HeadDim).transpose(1, 2);
            var v = Project(n, p + "self_attn.v_proj.weight").reshape(batch, length, c.KvHeads, c.HeadDim).transpose(1, 2);
            q = q * cos + RotateHalf(q) * sin;
            k = k * cos + RotateHalf(k) * sin;
            // Each kv head serves Heads/KvHeads consecutive query heads.
            k = k.repeat_interleave(c.Heads / c.KvHeads, dim: 1);
            v = v.repeat_interleave(c.Heads / c.KvHeads, dim: 1);
            var scores = q.matmul(k.transpose(-2, -1)) / MathF.Sqrt(c.HeadDim);
            scores = scores.masked_fill(mask, float.NegativeInfinity);
            var attended = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(batch, length, c.Heads * c.HeadDim);
            var h = x + Project(attended, p + "self_attn.o_proj.weight");
            var m = RmsNorm(h, Weights[p + "post_attention_layernorm.weight"]);
            var gated = nn.functional.silu(Project(m, p + "mlp.gate_proj.weight")) * Project(m, p + "mlp.up_proj.weight");
            x = h + Project(gated, p + "mlp.down_proj.weight");
        }
        return Project(RmsNorm(x, Weights["model.norm.weight"]), "lm_head.weight");
    }

    private Tensor Project(Tensor x, string weight) => nn.functional.linear(x, Weights[weight]);

    private static Tensor RmsNorm(Tensor x, Tensor weight) =>
        x * (x.pow(2).mean([-1L], keepdim: true) + (float)ToyModelConfig.RmsNormEps).rsqrt() * weight;

    private static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        return cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
    }

    /// <summary>cos and sin of pos·inv_freq, duplicated to head_dim as cat(a, a); shape (T, head_dim).</summary>
    private static (Tensor Cos, Tensor Sin) Rotary(long length, int headDim)
    {
        var invFreq = 1.0 / pow(ToyModelConfig.RopeTheta, arange(0, headDim, 2, dtype: ScalarType.Float64) / headDim);
        var angles = outer(arange(length, dtype: ScalarType.Float64), invFreq);
        angles = cat([angles, angles], -1);
        return (angles.cos().to_type(ScalarType.Float32), angles.sin().to_type(ScalarType.Float32));
    }

    public void Dispose()
    {
        foreach (var tensor in Weights.Values) tensor.Dispose();
    }
}
