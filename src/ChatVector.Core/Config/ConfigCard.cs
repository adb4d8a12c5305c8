using System.Text;
using ChatVector.Core.Format;

namespace ChatVector.Core.Config;

/// <summary>The model card of a config merge (README.md) and where the config is kept in the output.</summary>
public static class ConfigCard
{
    /// <summary>mergekit's name for the config it ran, beside the weights.</summary>
    public const string FileName = "mergekit_config.yml";

    /// <summary>The safetensors metadata key holding the config's text in every shard.</summary>
    public const string MetadataKey = "chatvector.mergekit_config";

    public static string Write(ConfigPlan plan)
    {
        var config = plan.Config;
        var card = new StringBuilder();
        card.Line("---").Line("tags:").Line("- merge").Line("- chatvector").Line("---").Line();
        card.Line($"# Merged with ChatVector from a mergekit config").Line();
        card.Line($"Method: `{config.Method.Name}` ({config.Method.Description}).").Line();
        if (config.BaseModel is { } baseModel) card.Line($"Base model: `{baseModel.Reference}`.").Line();
        if (config.Slices is { } slices)
        {
            card.Line($"Layers, slice by slice ({plan.LayerCount} in all):");
            foreach (var slice in slices)
                card.Line("- " + string.Join(", ", slice.Sources.Select(source => $"`{source.Model.Reference}` layers {source.Start}-{source.End - 1}")));
        }
        else
        {
            card.Line("Models:");
            foreach (var model in config.Models) card.Line($"- `{model.Reference}`");
        }
        card.Line();
        card.Line("Computed in float32 (float64 for F64 tensors) from the stored values and rounded once to the output dtype.").Line();
        if (plan.Warnings is { Count: > 0 } warnings)
        {
            // What Import-MergeConfig warned of stays with the model (embedding rows cut to a common vocabulary).
            card.Line("## Warnings").Line();
            foreach (var warning in warnings) card.Line("- " + warning);
            card.Line();
        }
        card.Line("## Configuration").Line().Line("```yaml").Line(config.Text.TrimEnd().ReplaceLineEndings(PortableText.NewLine.ToString())).Line("```");
        return card.ToString();
    }
}
