namespace ChatVector.Core.Inference;

/// <summary>The longest input a model takes: max_position_embeddings, or a smaller -ContextLength.</summary>
public static class InputLimits
{
    public static int Limit(LlamaConfig config, int? contextLength) =>
        contextLength is { } n && n > 0 ? Math.Min(n, config.MaxPositionEmbeddings) : config.MaxPositionEmbeddings;

    public static void Check(LlamaConfig config, int tokens, int? contextLength, string? modelPath)
    {
        int limit = Limit(config, contextLength);
        if (tokens <= limit) return;
        var source = contextLength is { } n && n > 0 && n < config.MaxPositionEmbeddings
            ? $"-ContextLength {n}"
            : $"max_position_embeddings {config.MaxPositionEmbeddings} in config.json";
        throw new InferenceException(InferenceProblem.InputTooLong,
            $"{modelPath}: the input has {tokens} tokens, more than the {limit} allowed ({source}); shorten the text or split it.", modelPath);
    }
}
