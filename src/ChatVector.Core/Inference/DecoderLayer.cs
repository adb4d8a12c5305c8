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
    /// <param name="queryBlock">Query rows per block of attention scores.</param>
    public static Tensor Apply(Tensor x, LayerWeights w, LlamaConfig c, Tensor cos, Tensor sin, long start, KvCache? cache, int layer, long queryBlock)
    {
        using var scope = NewDisposeScope();
        var h = x + Attention(RmsNorm.Apply(x, w.InputNorm, c.RmsNormEps), w, c, cos, sin, start, cache, layer, queryBlock);
        var n = RmsNorm.Apply(h, w.PostAttentionNorm, c.RmsNormEps);
        var mlp = linear(silu(linear(n, w.Gate)) * linear(n, w.Up), w.Down);
        return (h + mlp).MoveToOuterDisposeScope();
    }

    private static Tensor Attention(Tensor n, LayerWeights w, LlamaConfig c, Tensor cos, Tensor sin, long start, KvCache? cache, int layer, long queryBlock)
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
        // Queries in blocks, so the score matrix is (heads, block, keys), never (heads, T, T), for long inputs.
        var blocks = new List<Tensor>();
        for (long first = 0; first < tokens; first += queryBlock)
            blocks.Add(Attend(q.narrow(1, first, Math.Min(queryBlock, tokens - first)), k, v, start + first, c.HeadDim));
        var context = (blocks.Count == 1 ? blocks[0] : cat(blocks, 1)).transpose(0, 1).reshape(tokens, (long)c.Heads * c.HeadDim);
        return linear(context, w.O, w.OBias);
    }

    /// <summary>softmax(q·kᵀ/√hd + causal mask)·v for queries at positions <paramref name="firstPosition"/>.. (heads, n, hd).</summary>
    private static Tensor Attend(Tensor q, Tensor k, Tensor v, long firstPosition, int headDim)
    {
        var scores = matmul(q, k.transpose(1, 2)) / Math.Sqrt(headDim);
        // Query i (position firstPosition+i) sees keys 0..firstPosition+i.
        var masked = ones(q.shape[1], k.shape[1], dtype: ScalarType.Bool, device: scores.device).triu(firstPosition + 1);
        var weights = softmax(scores.masked_fill(masked, double.NegativeInfinity).to(ScalarType.Float32), -1).to(q.dtype);
        return matmul(weights, v);
    }
}
