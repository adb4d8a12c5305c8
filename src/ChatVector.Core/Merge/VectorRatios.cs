using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Merge;

/// <summary>
/// The ratio a vector is to be added with, saved in its file's metadata so that
/// <c>Get-SafeTensor cv | Add-ChatVector</c> adds it as the live pipeline would. One number when every
/// tensor has the same ratio (the usual <c>Get-ChatVector -Ratio</c>); a name-to-ratio object when they
/// differ (ratios set per handle at the prompt). Written from the tensors that reach the export, never
/// copied from an input file: the ratios on the pipeline are the current ones.
/// </summary>
public static class VectorRatios
{
    public const string MetadataKey = "chatvector.ratio";

    /// <summary>The metadata value for these tensors' ratios; null when none has one.</summary>
    public static string? ToMetadata(IReadOnlyList<(string Name, double? Ratio)> tensors)
    {
        var withRatio = tensors.Where(t => t.Ratio is not null).ToList();
        if (withRatio.Count == 0) return null;
        var distinct = withRatio.Select(t => t.Ratio!.Value).Distinct().ToList();
        if (distinct.Count == 1 && withRatio.Count == tensors.Count) return Format(distinct[0]);
        Tensors.DuplicateTensorNamesException.ThrowIfAny(withRatio.Select(t => t.Name), "one model"); // the map is keyed by name
        return new JObject(withRatio.Select(t => new JProperty(t.Name, t.Ratio!.Value))).ToString(Formatting.None);
    }

    /// <summary>The saved ratio of <paramref name="tensorName"/>, or null when the file records none for it.</summary>
    public static double? Read(IReadOnlyDictionary<string, string> metadata, string tensorName)
    {
        if (!metadata.TryGetValue(MetadataKey, out var value)) return null;
        if (TryParse(value, out var single)) return single;
        try
        {
            return JObject.Parse(value)[tensorName] is JValue { Type: JTokenType.Float or JTokenType.Integer } ratio ? (double)ratio : null;
        }
        catch (JsonException) { return null; }
    }

    // "R" round-trips every double exactly (NaN and infinities included), so a reloaded ratio is bit-identical.
    private static string Format(double ratio) => ratio.ToString("R", CultureInfo.InvariantCulture);

    private static bool TryParse(string text, out double ratio) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out ratio);
}
