using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Merge;

/// <summary>Two tensors of the same name whose shapes differ: no vector can be taken.</summary>
public sealed record ShapeMismatch(string Name, long[] BaseShape, long[] ChatShape)
{
    public override string ToString() =>
        $"tensor '{Name}': base shape [{string.Join(", ", BaseShape)}], chat shape [{string.Join(", ", ChatShape)}]";

    /// <summary>The tensor name in a provenance entry this record's <see cref="ToString"/> wrote, or null for any other entry.</summary>
    public static string? NameIn(string skippedEntry)
    {
        const string start = "tensor '", end = "': base shape [";
        if (!skippedEntry.StartsWith(start, StringComparison.Ordinal)) return null;
        int close = skippedEntry.LastIndexOf(end, StringComparison.Ordinal);
        return close < start.Length ? null : skippedEntry[start.Length..close];
    }
}

/// <summary>
/// What pairing a base and a chat model by tensor name found. <see cref="ShapeMismatches"/> and
/// <see cref="Uncomputable"/> are weights that would be left unmerged: an error, unless the caller asked
/// to skip them, in which case the vectors' provenance lists them (and so the model card does).
/// </summary>
public sealed record ChatVectorPairing(
    IReadOnlyList<ChatVectorTensor> Vectors,
    IReadOnlyList<string> OnlyInBase,
    IReadOnlyList<string> OnlyInChat,
    IReadOnlyList<string> SkippedBuffers,
    IReadOnlyList<string> Uncomputable,
    IReadOnlyList<ShapeMismatch> ShapeMismatches)
{
    /// <summary>Every weight without a vector, with the reason, for the message and the model card.</summary>
    public IReadOnlyList<string> Mismatched =>
        [.. ShapeMismatches.Select(m => m.ToString()), .. Uncomputable.Select(u => $"tensor {u}: dtype cannot be computed with")];

    /// <summary>Pairs a base and a chat model by tensor name into lazy <c>chat - base</c> tensors.</summary>
    /// <param name="skipMismatched">Record mismatched weights in the vectors' provenance (they are skipped on purpose).</param>
    public static ChatVectorPairing Pair(StoredModel @base, StoredModel chat, Func<string, bool> include, bool skipMismatched = false)
    {
        var pairs = new List<(StoredTensor Chat, StoredTensor Base)>();
        var onlyInChat = new List<string>();
        var buffers = new List<string>();
        var uncomputable = new List<string>();
        var mismatches = new List<ShapeMismatch>();
        foreach (var chatTensor in chat.Tensors.Where(t => include(t.Name)))
        {
            var baseTensor = @base.Find(chatTensor.Name);
            if (baseTensor is null) { onlyInChat.Add(chatTensor.Name); continue; }
            var (chatInfo, baseInfo) = (chatTensor.Info, baseTensor.Info);
            if (chatInfo.DType.IsIntegerOrBool() || baseInfo.DType.IsIntegerOrBool()) { buffers.Add(chatTensor.Name); continue; }
            if (!chatInfo.DType.IsComputable() || !baseInfo.DType.IsComputable()) { uncomputable.Add($"'{chatTensor.Name}' ({baseInfo.DType}, {chatInfo.DType})"); continue; }
            if (!chatInfo.Shape.SequenceEqual(baseInfo.Shape)) { mismatches.Add(new ShapeMismatch(chatTensor.Name, baseInfo.Shape, chatInfo.Shape)); continue; }
            pairs.Add((chatTensor, baseTensor));
        }
        var onlyInBase = @base.Tensors.Where(t => include(t.Name) && chat.Find(t.Name) is null).Select(t => t.Name).ToList();
        var pairing = new ChatVectorPairing([], onlyInBase, onlyInChat, buffers, uncomputable, mismatches);

        var provenance = VectorProvenance.FromModels(@base, chat);
        if (skipMismatched) provenance = provenance with { SkippedTensors = pairing.Mismatched };
        var vectors = pairs.Select(p => new ChatVectorTensor(new StoredTensorSource(p.Chat), new StoredTensorSource(p.Base), provenance)).ToList();
        return pairing with { Vectors = vectors };
    }
}
