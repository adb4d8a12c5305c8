using System.Text.RegularExpressions;

namespace ChatVector.Core.Statistics;

/// <summary>Which transformer layer a tensor belongs to, by its name, for per-layer summaries.</summary>
public static partial class LayerGroups
{
    public const string OutsideLayers = "(outside layers)";

    // LLaMA/Mistral/Qwen (model.layers.N.), GPT-2 (h.N.), and block-numbered models (blocks.N.).
    [GeneratedRegex(@"(?:^|\.)(?:layers|h|blocks)\.(\d+)\.")]
    private static partial Regex LayerNumber();

    /// <summary>"layer N", or <see cref="OutsideLayers"/> for embeddings, norms and heads.</summary>
    public static string Of(string tensorName) =>
        Number(tensorName) is { } layer ? $"layer {layer}" : OutsideLayers;

    /// <summary>The layer number, or null for tensors outside the layers (and numbers too large for an int).</summary>
    public static int? Number(string tensorName) =>
        LayerNumber().Match(tensorName) is { Success: true } m && int.TryParse(m.Groups[1].ValueSpan, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var layer)
            ? layer : null;
}
