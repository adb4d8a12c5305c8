namespace ChatVector.Core.Merge;

/// <summary>
/// Which tensors hold a row per vocabulary entry (input embedding, LM head): the ones an extended
/// vocabulary grows, <c>-SkipEmbedding</c> leaves alone and special-token rows are replaced in.
/// </summary>
public static class EmbeddingNames
{
    // LLaMA/Mistral/Qwen (embed_tokens, lm_head), GPT-2 (wte), GPT-NeoX (embed_in, embed_out), BLOOM (word_embeddings).
    private static readonly string[] Suffixes =
        ["embed_tokens.weight", "lm_head.weight", "wte.weight", "embed_in.weight", "embed_out.weight", "word_embeddings.weight"];

    public static bool IsEmbedding(string tensorName) =>
        Suffixes.Any(suffix => tensorName == suffix || tensorName.EndsWith("." + suffix, StringComparison.Ordinal));

    public static bool IsLmHead(string tensorName) =>
        tensorName is "lm_head.weight" or "embed_out.weight" || tensorName.EndsWith(".lm_head.weight", StringComparison.Ordinal);
}
