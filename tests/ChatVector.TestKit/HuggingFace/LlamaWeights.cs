namespace ChatVector.TestKit;

/// <summary>
/// The dimensions of a LLaMA-family decoder. q is Heads × HeadDim rows, k and v KvHeads × HeadDim; with the
/// defaults (one head of Hidden) every attention matrix is Hidden × Hidden.
/// </summary>
public sealed record LlamaDimensions(int Vocab, int Hidden, int Intermediate, int Layers, int Heads = 1, int KvHeads = 1)
{
    /// <summary>config.json's head_dim, when it is not Hidden / Heads.</summary>
    public int? HeadDimOverride { get; init; }
    public int HeadDim => HeadDimOverride ?? Hidden / Heads;
    /// <summary>The output head is the embedding: no lm_head tensor.</summary>
    public bool Tied { get; init; }
    /// <summary>q, k and v have biases (as Qwen2's do).</summary>
    public bool QkvBiases { get; init; }
}

/// <summary>In which order <see cref="LlamaWeights.Of"/> lists a layer's weights.</summary>
public enum LlamaWeightOrder
{
    /// <summary>As transformers' LlamaForCausalLM holds (and saves) them: attention (q, k, v, each weight then its
    /// bias, o), MLP (gate, up, down), then the two norms.</summary>
    Checkpoint,
    /// <summary>In the order the forward pass uses them: input norm, q, k, v (weights, then biases), o,
    /// post-attention norm, gate, up, down.</summary>
    Forward,
}

/// <summary>
/// The Hugging Face names and shapes of a LLaMA-family model's weights (transformers' LlamaForCausalLM naming):
/// the one list every test, trainer and benchmark builds models from.
/// </summary>
public static class LlamaWeights
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string Head = "lm_head.weight";

    /// <summary>The prefix of layer <paramref name="layer"/>'s weights, "model.layers.{layer}.".</summary>
    public static string Layer(int layer) => $"model.layers.{layer}.";

    /// <summary>A norm's weight (a vector that starts at one), as opposed to a matrix or a bias.</summary>
    public static bool IsNorm(string name) => name.EndsWith("norm.weight", StringComparison.Ordinal);

    /// <summary>Every weight of a model of dimensions <paramref name="d"/>: the embedding, each layer's, the final norm
    /// and (unless tied) the head.</summary>
    public static IEnumerable<(string Name, long[] Shape)> Of(LlamaDimensions d, LlamaWeightOrder order = LlamaWeightOrder.Checkpoint)
    {
        yield return (Embedding, [d.Vocab, d.Hidden]);
        for (int l = 0; l < d.Layers; l++)
            foreach (var weight in LayerWeights(d, Layer(l), order))
                yield return weight;
        yield return (FinalNorm, [d.Hidden]);
        if (!d.Tied) yield return (Head, [d.Vocab, d.Hidden]);
    }

    private static IEnumerable<(string Name, long[] Shape)> LayerWeights(LlamaDimensions d, string p, LlamaWeightOrder order)
    {
        long q = (long)d.Heads * d.HeadDim, kv = (long)d.KvHeads * d.HeadDim;
        (string, long[])[] projections = [(p + "self_attn.q_proj", [q, d.Hidden]), (p + "self_attn.k_proj", [kv, d.Hidden]), (p + "self_attn.v_proj", [kv, d.Hidden])];
        (string, long[]) output = (p + "self_attn.o_proj.weight", [d.Hidden, q]);
        (string, long[])[] mlp =
        [
            (p + "mlp.gate_proj.weight", [d.Intermediate, d.Hidden]),
            (p + "mlp.up_proj.weight", [d.Intermediate, d.Hidden]),
            (p + "mlp.down_proj.weight", [d.Hidden, d.Intermediate]),
        ];
        (string, long[]) inputNorm = (p + "input_layernorm.weight", [d.Hidden]);
        (string, long[]) postNorm = (p + "post_attention_layernorm.weight", [d.Hidden]);

        if (order == LlamaWeightOrder.Forward) yield return inputNorm;
        foreach (var (name, shape) in projections)
        {
            yield return (name + ".weight", shape);
            if (d.QkvBiases && order == LlamaWeightOrder.Checkpoint) yield return (name + ".bias", [shape[0]]);
        }
        if (d.QkvBiases && order == LlamaWeightOrder.Forward)
            foreach (var (name, shape) in projections) yield return (name + ".bias", [shape[0]]);
        yield return output;
        if (order == LlamaWeightOrder.Forward) yield return postNorm;
        foreach (var weight in mlp) yield return weight;
        if (order == LlamaWeightOrder.Checkpoint)
        {
            yield return inputNorm;
            yield return postNorm;
        }
    }
}
