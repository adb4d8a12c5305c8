namespace ChatVector.Core.Inference;

/// <summary>The longest input a model takes: max_position_embeddings, or a smaller -ContextLength.</summary>
public static class InputLimits
{
    /// <summary>The model's own limit: its positions, or a smaller sliding attention window (beyond it, full attention would differ).</summary>
    private static int ModelLimit(LlamaConfig config) => Math.Min(config.MaxPositionEmbeddings, config.SlidingWindow ?? int.MaxValue);

    public static int Limit(LlamaConfig config, int? contextLength) =>
        contextLength is { } n && n > 0 ? Math.Min(n, ModelLimit(config)) : ModelLimit(config);

    public static void Check(LlamaConfig config, int tokens, int? contextLength, string? modelPath)
    {
        int limit = Limit(config, contextLength);
        if (tokens <= limit) return;
        var source = contextLength is { } n && n > 0 && n < ModelLimit(config) ? $"-ContextLength {n}"
            : config.SlidingWindow is { } window && window < config.MaxPositionEmbeddings
                ? $"sliding_window {window} in config.json, beyond which this full-attention pass would differ from the model's"
                : $"max_position_embeddings {config.MaxPositionEmbeddings} in config.json";
        throw new InferenceException(InferenceProblem.InputTooLong,
            $"{modelPath}: the input has {tokens} tokens, more than the {limit} allowed ({source}); shorten the text or split it.", modelPath);
    }
}
