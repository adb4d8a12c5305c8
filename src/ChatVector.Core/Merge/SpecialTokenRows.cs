using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Merge;

/// <summary>
/// <c>-SpecialTokenMap @{ modelId = chatId }</c>: rows of the model's embedding and LM head replaced by the
/// chat model's rows for tokens (chat-template tokens) the continued pre-training left untrained.
/// The authors' script takes these rows from the base model; the chat model's rows are the trained ones.
/// </summary>
internal sealed class SpecialTokenRows(StoredModel chat, IReadOnlyDictionary<long, long> map)
{
    public static SpecialTokenRows? Prepare(MergeRequest request, List<string> problems)
    {
        if (request.SpecialTokenMap is not { Count: > 0 } map) return null;
        var chat = request.SpecialTokenModel ?? OpenChatModel(request, problems);
        return chat is null ? null : new SpecialTokenRows(chat, map);
    }

    private static StoredModel? OpenChatModel(MergeRequest request, List<string> problems)
    {
        var chatPath = MergePlanner.VectorOrigin(request)?.ChatModel;
        if (string.IsNullOrEmpty(chatPath))
        {
            problems.Add("-SpecialTokenMap needs the chat model's rows, but no vector says which chat model it came from; name it with -ChatModel.");
            return null;
        }
        return StoredModel.Open(chatPath);
    }

    public List<RowOverride> For(StoredTensorSource target, List<string> problems)
    {
        var overrides = new List<RowOverride>();
        if (!EmbeddingNames.IsEmbedding(target.Name) || target.Shape.Length != 2) return overrides;
        var source = FindChatRows(target.Name);
        if (source is null)
        {
            problems.Add($"'{target.Name}': the chat model {chat.Path} has no such tensor to take special-token rows from.");
            return overrides;
        }
        if (source.Info.Shape.Length != 2 || source.Info.Shape[1] != target.Shape[1])
        {
            problems.Add($"'{target.Name}': chat rows have shape [{string.Join(", ", source.Info.Shape)}], the model's [{string.Join(", ", target.Shape)}].");
            return overrides;
        }
        foreach (var (modelId, chatId) in map)
        {
            if (modelId < 0 || modelId >= target.Shape[0] || chatId < 0 || chatId >= source.Info.Shape[0])
                problems.Add($"'{target.Name}': special token {modelId} -> {chatId} is outside the model's {target.Shape[0]} or the chat model's {source.Info.Shape[0]} rows.");
            else
                overrides.Add(new RowOverride(modelId, new StoredTensorSource(source), chatId));
        }
        return overrides;
    }

    /// <summary>The chat model's tensor of that name; for a chat model with tied embeddings, its embedding stands for the LM head.</summary>
    private StoredTensor? FindChatRows(string name) =>
        chat.Find(name) ?? (EmbeddingNames.IsLmHead(name)
            ? chat.Tensors.FirstOrDefault(t => EmbeddingNames.IsEmbedding(t.Name) && !EmbeddingNames.IsLmHead(t.Name))
            : null);
}
