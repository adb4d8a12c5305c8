using ChatVector.Core.Models;

namespace ChatVector.Core.Statistics;

/// <summary>The per-layer groups of a measurement, labelled for its summary (which layer a name is in: <see cref="HuggingFaceNames.LayerNumber"/>).</summary>
public static class LayerGroups
{
    public const string OutsideLayers = "(outside layers)";

    /// <summary>"layer N", or <see cref="OutsideLayers"/> for embeddings, norms and heads.</summary>
    public static string Of(string tensorName) =>
        HuggingFaceNames.LayerNumber(tensorName) is { } layer ? $"layer {layer}" : OutsideLayers;
}
