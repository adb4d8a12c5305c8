using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Merge;

/// <summary>A vector tensor to add with its ratio; provenance says which chat model it came from, when known.</summary>
public sealed record VectorInput(ITensorSource Vector, double Ratio, VectorProvenance? Provenance);

/// <summary>Everything <c>Add-ChatVector</c> was asked to do.</summary>
public sealed record MergeRequest(
    StoredModel Model,
    IReadOnlyList<VectorInput> Vectors,
    bool SkipEmbedding = false,
    IReadOnlyDictionary<long, long>? SpecialTokenMap = null,
    DType? OutputDType = null,
    StoredModel? SpecialTokenModel = null,
    StoredModel? ChatTemplateFrom = null,
    MixOptions? Mixing = null,
    IReadOnlyList<string>? SpecialTokens = null)
{
    /// <summary>Consensus and normalization; the plain sum when not given.</summary>
    public MixOptions Mix => Mixing ?? MixOptions.Plain;
}
