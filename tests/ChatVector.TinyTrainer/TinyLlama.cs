using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace ChatVector.TinyTrainer;

/// <summary>A trainable LLaMA (RMSNorm, rotary, grouped-query causal attention, SwiGLU), its weights named as Hugging Face names them.</summary>
internal sealed class TinyLlama
{
    public const int Hidden = 32, Heads = 4, KvHeads = 2, HeadDim = 8, Intermediate = 64, Layers = 2;
    public const double Eps = 1e-6, Theta = 10000;

    public TinyLlama(int vocab, int seed)
    {
        Vocab = vocab;
        var generator = new Generator((ulong)seed);
        Tensor Random(params long[] shape) => new TorchSharp.Modules.Parameter(randn(shape, generator: generator) * 0.1);
        Tensor Ones(long n) => new TorchSharp.Modules.Parameter(ones(n));
        Weights["model.embed_tokens.weight"] = Random(vocab, Hidden);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Weights[p + "input_layernorm.weight"] = Ones(Hidden);
            Weights[p + "self_attn.q_proj.weight"] = Random(Heads * HeadDim, Hidden);
            Weights[p + "self_attn.k_proj.weight"] = Random(KvHeads * HeadDim, Hidden);
            Weights[p + "self_attn.v_proj.weight"] = Random(KvHeads * HeadDim, Hidden);
            Weights[p + "self_attn.o_proj.weight"] = Random(Hidden, Heads * HeadDim);
            Weights[p + "post_attention_layernorm.weight"] = Ones(Hidden);
            Weights[p + "mlp.gate_proj.weight"] = Random(Intermediate, Hidden);
            Weights[p + "mlp.up_proj.weight"] = Random(Intermediate, Hidden);
            Weights[p + "mlp.down_proj.weight"] = Random(Hidden, Intermediate);
        }
        Weights["model.norm.weight"] = Ones(Hidden);
        Weights["lm_head.weight"] = Random(vocab, Hidden);
    }

    public int Vocab { get; }
    public Dictionary<string, Tensor> Weights { get; } = new(StringComparer.Ordinal);

    /// <summary>Logits (T, vocab) of a token sequence.</summary>
    public Tensor Forward(long[] ids)
    {
        long T = ids.Length;
        var x = Weights["model.embed_tokens.weight"].index_select(0, tensor(ids));
        var (cos, sin) = Rotary(T);
        var mask = ones(T, T, dtype: ScalarType.Bool).triu(1);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            var n = Norm(x, Weights[p + "input_layernorm.weight"]);
            var q = Rotate(linear(n, Weights[p + "self_attn.q_proj.weight"]).view(T, Heads, HeadDim).transpose(0, 1), cos, sin);
            var k = Rotate(linear(n, Weights[p + "self_attn.k_proj.weight"]).view(T, KvHeads, HeadDim).transpose(0, 1), cos, sin);
            var v = linear(n, Weights[p + "self_attn.v_proj.weight"]).view(T, KvHeads, HeadDim).transpose(0, 1);
            k = k.repeat_interleave(Heads / KvHeads, 0);
            v = v.repeat_interleave(Heads / KvHeads, 0);
            var scores = (q.matmul(k.transpose(1, 2)) / Math.Sqrt(HeadDim)).masked_fill(mask, double.NegativeInfinity);
            var attended = softmax(scores, -1).matmul(v).transpose(0, 1).reshape(T, Heads * HeadDim);
            x = x + linear(attended, Weights[p + "self_attn.o_proj.weight"]);
            var m = Norm(x, Weights[p + "post_attention_layernorm.weight"]);
            x = x + linear(silu(linear(m, Weights[p + "mlp.gate_proj.weight"])) * linear(m, Weights[p + "mlp.up_proj.weight"]), Weights[p + "mlp.down_proj.weight"]);
        }
        return linear(Norm(x, Weights["model.norm.weight"]), Weights["lm_head.weight"]);
    }

    private static Tensor Norm(Tensor x, Tensor weight) => x * rsqrt(x.pow(2).mean([-1L], keepdim: true) + Eps) * weight;

    private static (Tensor Cos, Tensor Sin) Rotary(long T)
    {
        var invFreq = Enumerable.Range(0, HeadDim / 2).Select(i => (float)(1 / Math.Pow(Theta, 2.0 * i / HeadDim))).ToArray();
        var angles = arange(T, dtype: ScalarType.Float32).unsqueeze(1) * tensor(invFreq).unsqueeze(0);
        var both = cat([angles, angles], 1);
        return (both.cos(), both.sin());
    }

    private static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        var half = HeadDim / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return x * cos + rotated * sin;
    }
}
