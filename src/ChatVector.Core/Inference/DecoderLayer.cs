using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace ChatVector.Core.Inference;

/// <summary>
/// One LLaMA decoder layer on all tokens at once: x + attention(norm(x)), then h + SwiGLU MLP(norm(h)).
/// Attention is grouped-query (each kv head serves heads/kv_heads consecutive q heads) with a causal mask.
/// </summary>
internal static class DecoderLayer
{
    /// <param name="x">(T, hidden) hidden states of positions <paramref name="start"/>.. onwards.</param>
    /// <param name="cache">Earlier positions' keys and values (generation), or null (one pass over all tokens).</param>
    public static Tensor Apply(Tensor x, LayerWeights w, LlamaConfig c, Tensor cos, Tensor sin, long start, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var h = x + Attention(RmsNorm.Apply(x, w.InputNorm, c.RmsNormEps), w, c, cos, sin, start, cache, layer);
        var n = RmsNorm.Apply(h, w.PostAttentionNorm, c.RmsNormEps);
        var mlp = linear(silu(linear(n, w.Gate)) * linear(n, w.Up), w.Down);
        return (h + mlp).MoveToOuterDisposeScope();
    }

    private static Tensor Attention(Tensor n, LayerWeights w, LlamaConfig c, Tensor cos, Tensor sin, long start, KvCache? cache, int layer)
    {
        long tokens = n.shape[0];
        // (T, heads·hd) → (heads, T, hd)
        Tensor Heads(Tensor projected, int heads) => projected.view(tokens, heads, c.HeadDim).transpose(0, 1);
        var q = RotaryEmbedding.Apply(Heads(linear(n, w.Q, w.QBias), c.Heads), cos, sin);
        var k = RotaryEmbedding.Apply(Heads(linear(n, w.K, w.KBias), c.KvHeads), cos, sin);
        var v = Heads(linear(n, w.V, w.VBias), c.KvHeads);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);

        int group = c.Heads / c.KvHeads;
        if (group > 1)
        {
            k = k.repeat_interleave(group, 0);
            v = v.repeat_interleave(group, 0);
        }
        long keys = k.shape[1];
        var scores = matmul(q, k.transpose(1, 2)) / Math.Sqrt(c.HeadDim);
        // Query i (position start+i) sees keys 0..start+i.
        var masked = ones(tokens, keys, dtype: ScalarType.Bool, device: scores.device).triu(start + 1);
        scores = scores.masked_fill(masked, double.NegativeInfinity);
        var weights = softmax(scores.to(ScalarType.Float32), -1).to(q.dtype);
        var context = matmul(weights, v).transpose(0, 1).reshape(tokens, (long)c.Heads * c.HeadDim);
        return linear(context, w.O, w.OBias);
    }
}
