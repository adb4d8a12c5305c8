using System.Text.RegularExpressions;

namespace ChatVector.Core.Models;

/// <summary>
/// What the module knows of Hugging Face tensor names, in one place: the LLaMA family's weights (what the forward pass
/// reads), which tensors hold a row per vocabulary entry (what a merge treats as embeddings), and which transformer
/// layer a tensor belongs to (what measurements group by). Teaching the module another naming scheme is an edit here.
/// </summary>
public static partial class HuggingFaceNames
{
    // The LLaMA family (LLaMA, Mistral, Qwen2): the names the forward pass reads.

    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";

    public const string QProj = "self_attn.q_proj";
    public const string KProj = "self_attn.k_proj";
    public const string VProj = "self_attn.v_proj";
    public const string OProj = "self_attn.o_proj";
    public const string GateProj = "mlp.gate_proj";
    public const string UpProj = "mlp.up_proj";
    public const string DownProj = "mlp.down_proj";
    public const string InputNorm = "input_layernorm";
    public const string PostAttentionNorm = "post_attention_layernorm";

    /// <summary>The weight of <paramref name="module"/> (e.g. <see cref="QProj"/>) in decoder layer <paramref name="layer"/>.</summary>
    public static string LayerWeight(int layer, string module) => $"model.layers.{layer}.{module}.weight";

    /// <summary>The bias of <paramref name="module"/> in decoder layer <paramref name="layer"/> (Qwen2's attention projections have one).</summary>
    public static string LayerBias(int layer, string module) => $"model.layers.{layer}.{module}.bias";

    // Rows per vocabulary entry, across families: the tensors an extended vocabulary grows, -SkipEmbedding leaves
    // alone and special-token rows are replaced in.

    // LLaMA/Mistral/Qwen (embed_tokens, lm_head), GPT-2 (wte), GPT-NeoX (embed_in, embed_out), BLOOM (word_embeddings).
    private static readonly string[] EmbeddingSuffixes =
        ["embed_tokens.weight", "lm_head.weight", "wte.weight", "embed_in.weight", "embed_out.weight", "word_embeddings.weight"];

    /// <summary>Whether the tensor holds a row per vocabulary entry (an input embedding or an LM head).</summary>
    public static bool IsEmbedding(string tensorName) =>
        EmbeddingSuffixes.Any(suffix => tensorName == suffix || tensorName.EndsWith("." + suffix, StringComparison.Ordinal));

    /// <summary>Whether the tensor is an LM head (the output projection onto the vocabulary).</summary>
    public static bool IsLmHead(string tensorName) =>
        tensorName is "lm_head.weight" or "embed_out.weight" || tensorName.EndsWith(".lm_head.weight", StringComparison.Ordinal);

    // Layers, across families: LLaMA/Mistral/Qwen (model.layers.N.), GPT-2 (h.N.), and block-numbered models (blocks.N.).

    [GeneratedRegex(@"(?:^|\.)(?:layers|h|blocks)\.(\d+)\.")]
    private static partial Regex LayerNumberPattern();

    /// <summary>The transformer layer the tensor belongs to, or null for tensors outside the layers (embeddings, norms, heads) and numbers too large for an int.</summary>
    public static int? LayerNumber(string tensorName) =>
        LayerNumberPattern().Match(tensorName) is { Success: true } m && int.TryParse(m.Groups[1].ValueSpan, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var layer)
            ? layer : null;

    /// <summary><paramref name="tensorName"/> with its layer number replaced by <paramref name="layer"/> (layer stacking renumbers the layers it takes).</summary>
    public static string WithLayerNumber(string tensorName, int layer)
    {
        var match = LayerNumberPattern().Match(tensorName);
        if (!match.Success) throw new ArgumentException($"'{tensorName}' is not a layer's tensor", nameof(tensorName));
        var number = match.Groups[1];
        return string.Concat(tensorName.AsSpan(0, number.Index), layer.ToString(System.Globalization.CultureInfo.InvariantCulture), tensorName.AsSpan(number.Index + number.Length));
    }
}
