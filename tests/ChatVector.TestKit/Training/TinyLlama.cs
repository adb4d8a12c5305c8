using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.TestKit.Training;

/// <summary>How <see cref="TinyLlama"/> computes its rotary cos and sin tables.</summary>
public enum RotaryTables
{
    /// <summary>As transformers does: angles pos·inv_freq in float64, cos and sin rounded to float32 once.</summary>
    Float64,
    /// <summary>inv_freq rounded to float32 first, angles, cos and sin in float32: the tests' memorised models
    /// (tests/ChatVector.TinyTrainer) were trained with these tables, and keep their bytes with them.</summary>
    Float32,
}

/// <summary>A tiny LLaMA's shape and constants: the dimensions, the RMSNorm epsilon, rope θ and the rotary tables.</summary>
public sealed record TinyLlamaConfig(LlamaDimensions Dimensions, double RmsNormEps, double RopeTheta, RotaryTables Rotary = RotaryTables.Float64)
{
    /// <summary>config.json's keys for this model (callers add what their folders say besides).</summary>
    public LlamaConfigJson ConfigJson() => LlamaConfigJson.Of(Dimensions) with { RmsNormEps = RmsNormEps, RopeTheta = RopeTheta };
}

/// <summary>
/// A trainable LLaMA decoder as plain named parameters, named and shaped exactly as transformers' LlamaForCausalLM
/// (<see cref="LlamaWeights"/>, so a safetensors file of them is a Hugging Face checkpoint), with the forward pass
/// as transformers computes it (docs/inference.md lists the facts): RMSNorm, rotate-half rotary embeddings,
/// grouped-query causal attention, SwiGLU MLP, untied LM head. Its forward pass is its own, not the module's: the
/// trainers of tests/ChatVector.TinyTrainer and examples/ToyChatVector both use it.
/// </summary>
public sealed class TinyLlama : IDisposable
{
    public TinyLlamaConfig Config { get; }
    /// <summary>The weights by name, in the order they were made (the optimiser's parameter order).</summary>
    public Dictionary<string, Tensor> Weights { get; }

    private TinyLlama(TinyLlamaConfig config, Dictionary<string, Tensor> weights)
    {
        Config = config;
        Weights = weights;
    }

    /// <summary>
    /// Fresh trainable weights: norms at one, every other weight normal(0, <paramref name="std"/>), drawn in
    /// <paramref name="order"/> from <paramref name="generator"/> (torch's global generator when null: call
    /// torch.manual_seed first for a reproducible model).
    /// </summary>
    public static TinyLlama Initialise(TinyLlamaConfig config, double std, LlamaWeightOrder order = LlamaWeightOrder.Checkpoint, Generator? generator = null)
    {
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, shape) in LlamaWeights.Of(config.Dimensions, order))
        {
            var tensor = LlamaWeights.IsNorm(name) ? ones(shape) : randn(shape, generator: generator) * std;
            weights[name] = new TorchSharp.Modules.Parameter(tensor, requires_grad: true);
        }
        return new TinyLlama(config, weights);
    }

    /// <summary>A trainable copy of these weights (the start of fine-tuning or continued pre-training).</summary>
    public TinyLlama Clone() =>
        new(Config, Weights.ToDictionary(kv => kv.Key, kv => (Tensor)new TorchSharp.Modules.Parameter(kv.Value.detach().clone(), requires_grad: true)));

    /// <summary>A model of loaded weights; every weight the config implies must be there with its shape.</summary>
    public static TinyLlama FromWeights(TinyLlamaConfig config, Dictionary<string, Tensor> weights)
    {
        foreach (var (name, shape) in LlamaWeights.Of(config.Dimensions))
        {
            if (!weights.TryGetValue(name, out var tensor))
                throw new InvalidDataException($"The model has no tensor '{name}'.");
            if (!tensor.shape.SequenceEqual(shape))
                throw new InvalidDataException($"'{name}' has shape [{string.Join(',', tensor.shape)}], expected [{string.Join(',', shape)}].");
        }
        return new TinyLlama(config, weights);
    }

    /// <summary>Every weight as an F32 safetensors entry, in <see cref="Weights"/>' order.</summary>
    public List<(string Name, string DType, long[] Shape, byte[] Data)> F32Entries() =>
        Weights.Select(kv => (kv.Key, "F32", kv.Value.shape, TensorBytes.F32(kv.Value.detach().contiguous().data<float>().ToArray()))).ToList();

    /// <summary>Logits (batch, T, vocab) for token ids (batch, T), positions 0..T-1.</summary>
    public Tensor Forward(Tensor ids)
    {
        var d = Config.Dimensions;
        int headDim = d.HeadDim;
        long batch = ids.shape[0], length = ids.shape[1];
        var (cos, sin) = Rotary(length);
        var mask = ones(length, length, dtype: ScalarType.Bool).triu(1);
        var x = Weights[LlamaWeights.Embedding].index_select(0, ids.reshape(-1)).reshape(batch, length, d.Hidden);
        for (int l = 0; l < d.Layers; l++)
        {
            var p = LlamaWeights.Layer(l);
            var n = RmsNorm(x, Weights[p + "input_layernorm.weight"]);
            var q = Project(n, p + "self_attn.q_proj.weight").reshape(batch, length, d.Heads, headDim).transpose(1, 2);
            var k = Project(n, p + "self_attn.k_proj.weight").reshape(batch, length, d.KvHeads, headDim).transpose(1, 2);
            var v = Project(n, p + "self_attn.v_proj.weight").reshape(batch, length, d.KvHeads, headDim).transpose(1, 2);
            q = q * cos + RotateHalf(q) * sin;
            k = k * cos + RotateHalf(k) * sin;
            // Each kv head serves Heads/KvHeads consecutive query heads.
            k = k.repeat_interleave(d.Heads / d.KvHeads, dim: 1);
            v = v.repeat_interleave(d.Heads / d.KvHeads, dim: 1);
            var scores = q.matmul(k.transpose(-2, -1)) / MathF.Sqrt(headDim);
            scores = scores.masked_fill(mask, float.NegativeInfinity);
            var attended = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(batch, length, d.Heads * headDim);
            var h = x + Project(attended, p + "self_attn.o_proj.weight");
            var m = RmsNorm(h, Weights[p + "post_attention_layernorm.weight"]);
            var gated = nn.functional.silu(Project(m, p + "mlp.gate_proj.weight")) * Project(m, p + "mlp.up_proj.weight");
            x = h + Project(gated, p + "mlp.down_proj.weight");
        }
        return Project(RmsNorm(x, Weights[LlamaWeights.FinalNorm]), LlamaWeights.Head);
    }

    private Tensor Project(Tensor x, string weight) => nn.functional.linear(x, Weights[weight]);

    private Tensor RmsNorm(Tensor x, Tensor weight) =>
        x * (x.pow(2).mean([-1L], keepdim: true) + (float)Config.RmsNormEps).rsqrt() * weight;

    private static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        return cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
    }

    /// <summary>cos and sin of pos·inv_freq, duplicated to head_dim as cat(a, a); shape (T, head_dim).</summary>
    private (Tensor Cos, Tensor Sin) Rotary(long length)
    {
        int headDim = Config.Dimensions.HeadDim;
        double theta = Config.RopeTheta;
        if (Config.Rotary == RotaryTables.Float32)
        {
            var invFreq32 = Enumerable.Range(0, headDim / 2).Select(i => (float)(1 / Math.Pow(theta, 2.0 * i / headDim))).ToArray();
            var angles32 = arange(length, dtype: ScalarType.Float32).unsqueeze(1) * tensor(invFreq32).unsqueeze(0);
            var both = cat([angles32, angles32], 1);
            return (both.cos(), both.sin());
        }
        var invFreq = 1.0 / pow(theta, arange(0, headDim, 2, dtype: ScalarType.Float64) / headDim);
        var angles = outer(arange(length, dtype: ScalarType.Float64), invFreq);
        angles = cat([angles, angles], -1);
        return (angles.cos().to_type(ScalarType.Float32), angles.sin().to_type(ScalarType.Float32));
    }

    public void Dispose()
    {
        foreach (var tensor in Weights.Values) tensor.Dispose();
    }
}
