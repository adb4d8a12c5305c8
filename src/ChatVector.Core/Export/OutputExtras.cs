using ChatVector.Core.Merge;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Export;

/// <summary>A tensor arriving at an export, with what its producer knows and the ratio it carries (vectors).</summary>
public sealed record OutputTensor(ITensorSource Source, Inheritance Inheritance, double? Ratio = null);

/// <summary>
/// What one output gets besides its tensors, decided from all of its inputs at once: every producer's
/// carried metadata (first value wins), the vectors' ratios, the user's entries (final), and side files
/// only when every tensor agrees on them (a model folder gets its source's config and tokenizer only
/// when all its tensors came from the same place).
/// </summary>
public sealed record OutputExtras(IReadOnlyDictionary<string, string> Metadata, OutputSideFiles? SideFiles)
{
    public static OutputExtras Combine(IReadOnlyList<OutputTensor> tensors, IReadOnlyDictionary<string, string>? userMetadata = null)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var context in tensors.Select(t => t.Inheritance).Distinct())
            foreach (var (key, value) in context.Metadata)
                metadata.TryAdd(key, value);
        if (VectorRatios.ToMetadata(tensors.Select(t => (t.Source.Name, t.Ratio)).ToList()) is { } ratios)
            metadata[VectorRatios.MetadataKey] = ratios;
        foreach (var (key, value) in userMetadata ?? new Dictionary<string, string>()) metadata[key] = value;
        var sideFiles = tensors.Select(t => t.Inheritance.SideFiles).Distinct().ToList();
        return new OutputExtras(metadata, sideFiles is [{ } only] ? only : null);
    }
}
