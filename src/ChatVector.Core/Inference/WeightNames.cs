namespace ChatVector.Core.Inference;

/// <summary>The Hugging Face tensor names of the LLaMA family.</summary>
public static class WeightNames
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";

    public static string Layer(int layer, string part) => $"model.layers.{layer}.{part}";

    public static readonly string[] Projections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"];
    public static readonly string[] Mlp = ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];
    public static readonly string[] Norms = ["input_layernorm", "post_attention_layernorm"];
}
