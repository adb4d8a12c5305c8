using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Merge;

/// <summary>Two tensors of the same name whose shapes differ: no vector can be taken.</summary>
public sealed record ShapeMismatch(string Name, long[] BaseShape, long[] ChatShape)
{
    public override string ToString() =>
        $"tensor '{Name}': base shape [{string.Join(", ", BaseShape)}], chat shape [{string.Join(", ", ChatShape)}]";
}

/// <summary>What pairing a base and a chat model by tensor name found.</summary>
public sealed record VectorPairing(
    IReadOnlyList<ChatVectorTensor> Vectors,
    IReadOnlyList<string> OnlyInBase,
    IReadOnlyList<string> OnlyInChat,
    IReadOnlyList<string> SkippedBuffers,
    IReadOnlyList<string> Uncomputable,
    IReadOnlyList<ShapeMismatch> ShapeMismatches);

/// <summary>Pairs a base and a chat model by tensor name into lazy <c>chat - base</c> tensors.</summary>
public static class ChatVectorPlanner
{
    public static VectorPairing Pair(ModelFolder @base, ModelFolder chat, Func<string, bool> include)
    {
        var provenance = VectorProvenance.FromModels(@base, chat);
        var vectors = new List<ChatVectorTensor>();
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
            if (!chatInfo.DType.IsComputable() || !baseInfo.DType.IsComputable()) { uncomputable.Add($"{chatTensor.Name} ({baseInfo.DType}, {chatInfo.DType})"); continue; }
            if (!chatInfo.Shape.SequenceEqual(baseInfo.Shape)) { mismatches.Add(new ShapeMismatch(chatTensor.Name, baseInfo.Shape, chatInfo.Shape)); continue; }
            vectors.Add(new ChatVectorTensor(new StoredTensorSource(chatTensor), new StoredTensorSource(baseTensor), provenance));
        }
        var onlyInBase = @base.Tensors.Where(t => include(t.Name) && chat.Find(t.Name) is null).Select(t => t.Name).ToList();
        return new VectorPairing(vectors, onlyInBase, onlyInChat, buffers, uncomputable, mismatches);
    }
}
