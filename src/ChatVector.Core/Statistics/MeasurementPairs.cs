using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Statistics;

/// <summary>A tensor to measure against, or null with the reason there is none (for the user).</summary>
public sealed record Companion(ITensorSource? Source, string? Reason);

/// <summary>
/// Finds what a measured tensor is compared with: the same-named tensor of a reference model (for the
/// cosine), and the base tensor a vector was taken from (for the relative norm): a live vector holds it,
/// a saved one names its base model, which is opened once.
/// </summary>
public sealed class MeasurementPairs(StoredModel? reference)
{
    private readonly Dictionary<string, StoredModel?> _bases = new(StringComparer.Ordinal);

    /// <summary>The reference's tensor of the same name and shape; none when there is no reference.</summary>
    public Companion ReferenceFor(ITensorSource tensor)
    {
        if (reference is null) return new Companion(null, null);
        var stored = reference.Find(tensor.Name);
        return stored is not null && stored.Info.Shape.SequenceEqual(tensor.Shape)
            ? new Companion(new StoredTensorSource(stored), null)
            : new Companion(null, $"'{tensor.Name}': {reference.Path} has no tensor of that name and shape; no cosine for it.");
    }

    /// <summary>The base tensor <paramref name="tensor"/> (a vector) was taken from, when known.</summary>
    public Companion BaseFor(ITensorSource tensor, VectorProvenance? provenance)
    {
        if (tensor is ChatVectorTensor live) return new Companion(live.Base, null);
        var baseModel = provenance?.BaseModel;
        if (string.IsNullOrEmpty(baseModel)) return new Companion(null, null);
        string? reason = null;
        if (!_bases.TryGetValue(baseModel, out var model))
        {
            try { model = StoredModel.Open(baseModel); }
            catch (Exception e) when (e is InputRuleException or IOException)
            {
                reason = $"Base model {baseModel} of the saved vector cannot be opened ({e.Message}); no relative norms.";
            }
            _bases[baseModel] = model;
        }
        return new Companion(model?.Find(tensor.Name) is { } stored ? new StoredTensorSource(stored) : null, reason);
    }
}
