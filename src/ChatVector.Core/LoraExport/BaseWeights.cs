using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.LoraExport;

/// <summary>
/// The base weight a vector tensor was taken against: a whole tensor in <c>modules_to_save</c> replaces the module,
/// so it holds base + vector, not the vector.
/// </summary>
public static class BaseWeights
{
    /// <summary>
    /// The base of a live vector (a chat vector, sparsified or not) is the one it was computed from; any other
    /// (a saved vector) is looked up by name in <paramref name="baseModel"/>. Null when neither knows it.
    /// </summary>
    public static ITensorSource? Of(ITensorSource vector, StoredModel? baseModel) => vector switch
    {
        ChatVectorTensor live => live.Base,
        SparsifiedTensor { Inner: ChatVectorTensor live } => live.Base,
        _ => baseModel?.Find(vector.Name) is { } stored ? new StoredTensorSource(stored) : null,
    };

    /// <summary>
    /// The embedding and LM head tensors a vector left out because the two models' vocabularies differ
    /// (Get-ChatVector -SkipMismatched records them): no delta exists, so an adapter can only carry the chat
    /// model's whole tensor, read from <paramref name="chatModel"/>.
    /// </summary>
    public static IReadOnlyList<ITensorSource> VocabularyMismatches(IEnumerable<string> skippedTensors, StoredModel? chatModel) =>
        skippedTensors.Select(ShapeMismatch.NameIn).OfType<string>().Where(HuggingFaceNames.IsEmbedding).Distinct()
            .Select(name => chatModel?.Find(name)).OfType<StoredTensor>().Select(t => (ITensorSource)new StoredTensorSource(t)).ToList();
}
