using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// How a vector was sparsified, as saved with it (file metadata) and shown in a merged model's card: one
/// options object when every tensor had the same options, a name-to-options object when they differ
/// (a per-handle Density). The seed is always there, so a run without -Seed can be repeated.
/// </summary>
public static class SparsifyProvenance
{
    public const string MetadataKey = "chatvector.sparsify";

    /// <summary>The metadata value for these tensors' options.</summary>
    public static string ToMetadata(IReadOnlyList<(string Name, SparsifyOptions Options)> tensors)
    {
        Tensors.DuplicateTensorNamesException.ThrowIfAny(tensors.Select(t => t.Name), "one vector"); // the record is keyed by name
        var distinct = tensors.Select(t => t.Options).Distinct().ToList();
        JToken json = distinct.Count == 1
            ? distinct[0].ToJson()
            : new JObject(tensors.Select(t => new JProperty(t.Name, t.Options.ToJson())));
        return json.ToString(Formatting.None);
    }

    /// <summary>The options recorded for <paramref name="tensorName"/> in a metadata value, or null.</summary>
    public static SparsifyOptions? Read(string? value, string tensorName)
    {
        var json = Parse(value);
        return SparsifyOptions.FromJson(json) ?? SparsifyOptions.FromJson((json as JObject)?[tensorName]);
    }

    /// <summary>The value as JSON for a recipe (a hand-written non-JSON value stays a string).</summary>
    internal static JToken? ToRecipe(string? value) => value is null ? null : Parse(value) ?? new JValue(value);

    /// <summary>One line for a model card: the rule and its parameters, with the density range when it varies per tensor.</summary>
    public static string Describe(string value)
    {
        var json = Parse(value);
        if (SparsifyOptions.FromJson(json) is { } single) return single.Describe();
        var options = (json as JObject)?.Properties().Select(p => SparsifyOptions.FromJson(p.Value)).OfType<SparsifyOptions>().ToList();
        if (options is null || options.Count == 0) return value;
        return string.Join("; ", options.GroupBy(o => o with { Density = 0 }).Select(g =>
        {
            double min = g.Min(o => o.Density), max = g.Max(o => o.Density);
            var density = min == max ? F(min) : $"{F(min)}–{F(max)} per tensor";
            return g.Key.Describe(density);
        }));
    }

    private static string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);

    private static JToken? Parse(string? value)
    {
        if (value is null) return null;
        try { return JToken.Parse(value); }
        catch (JsonException) { return null; }
    }
}
