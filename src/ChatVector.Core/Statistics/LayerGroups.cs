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
        LayerNumber().Match(tensorName) is { Success: true } m ? $"layer {m.Groups[1].Value}" : OutsideLayers;
}
