using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tokenization;

namespace ChatVector.Core.Merge;

/// <summary>
/// <c>-SpecialTokenMap @{ modelId = chatId }</c>: rows of the model's embedding and LM head replaced by the
/// chat model's rows for tokens (chat-template tokens) the continued pre-training left untrained.
/// The authors' script takes these rows from the base model; the chat model's rows are the trained ones.
/// <c>-SpecialToken '&lt;|im_end|&gt;'</c> names such tokens by text; their ids are looked up in both models'
/// tokenizer.json (added tokens included) and join the map.
/// </summary>
internal sealed class SpecialTokenRows(StoredModel chat, IReadOnlyDictionary<long, long> map, IReadOnlyList<RecipeSpecialToken> tokens)
{
    /// <summary>Every row to replace: model id to chat id (the -SpecialTokenMap entries and the resolved tokens).</summary>
    public IReadOnlyDictionary<long, long> Map => map;

    /// <summary>The tokens named by text, with their ids.</summary>
    public IReadOnlyList<RecipeSpecialToken> Tokens => tokens;

    public static SpecialTokenRows? Resolve(MergeRequest request, List<string> problems)
    {
        var texts = request.SpecialTokens ?? [];
        if (request.SpecialTokenMap is not { Count: > 0 } && texts.Count == 0) return null;
        var chat = request.SpecialTokenModel ?? OpenChatModel(request, problems);
        if (chat is null) return null;
        var combined = new Dictionary<long, long>(request.SpecialTokenMap ?? new Dictionary<long, long>());
        var resolved = ResolveTokens(request.Model, chat, texts, problems);
        foreach (var token in resolved)
        {
            if (combined.TryGetValue(token.ModelId, out var mapped) && mapped != token.ChatId)
                problems.Add($"-SpecialToken '{token.Token}' is model id {token.ModelId} -> chat id {token.ChatId}, but -SpecialTokenMap maps {token.ModelId} to {mapped}.");
            else combined[token.ModelId] = token.ChatId;
        }
        return new SpecialTokenRows(chat, combined, resolved);
    }

    /// <summary>Each token's id in the model's and in the chat model's tokenizer.json; every one missing is a problem.</summary>
    private static List<RecipeSpecialToken> ResolveTokens(StoredModel model, StoredModel chat, IReadOnlyList<string> texts, List<string> problems)
    {
        var resolved = new List<RecipeSpecialToken>();
        if (texts.Count == 0) return resolved;
        using var modelTokenizer = LoadTokenizer(model, problems);
        using var chatTokenizer = LoadTokenizer(chat, problems);
        if (modelTokenizer is null || chatTokenizer is null) return resolved;
        foreach (var text in texts.Distinct(StringComparer.Ordinal))
        {
            var modelId = modelTokenizer.TokenToId(text);
            var chatId = chatTokenizer.TokenToId(text);
            if (modelId is null) problems.Add($"-SpecialToken '{text}' is not a token of {modelTokenizer.FilePath}.");
            if (chatId is null) problems.Add($"-SpecialToken '{text}' is not a token of {chatTokenizer.FilePath}.");
            if (modelId is { } m && chatId is { } c) resolved.Add(new RecipeSpecialToken(text, m, c));
        }
        return resolved;
    }

    private static TokenizerFile? LoadTokenizer(StoredModel folder, List<string> problems)
    {
        try { return TokenizerFile.Load(folder.Directory); }
        catch (TokenizerFileException e)
        {
            problems.Add($"-SpecialToken needs the token ids of {folder.Path}: {e.Message}");
            return null;
        }
    }

    private static StoredModel? OpenChatModel(MergeRequest request, List<string> problems)
    {
        var chatPath = MergePlanner.VectorOrigin(request)?.ChatModel;
        if (string.IsNullOrEmpty(chatPath))
        {
            problems.Add("-SpecialTokenMap and -SpecialToken need the chat model's rows, but no vector says which chat model it came from; name it with -ChatModel.");
            return null;
        }
        if (!File.Exists(chatPath) && !Directory.Exists(chatPath))
        {
            // A saved vector records the chat model's path where it was made, perhaps another machine or OS
            // (C:\models\chat read on Linux): say so, not "no such file" as if the user had typed it.
            problems.Add($"-SpecialTokenMap and -SpecialToken need the chat model's rows; the vector records its chat model as '{chatPath}', which does not exist here (was the vector saved on another machine?). Name the chat model with -ChatModel.");
            return null;
        }
        return StoredModel.Open(chatPath);
    }

    public List<RowOverride> For(StoredTensorSource target, List<string> problems)
    {
        var overrides = new List<RowOverride>();
        if (!HuggingFaceNames.IsEmbedding(target.Name) || target.Shape.Length != 2) return overrides;
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
        chat.Find(name) ?? (HuggingFaceNames.IsLmHead(name)
            ? chat.Tensors.FirstOrDefault(t => HuggingFaceNames.IsEmbedding(t.Name) && !HuggingFaceNames.IsLmHead(t.Name))
            : null);
}
