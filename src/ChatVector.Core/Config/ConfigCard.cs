using System.Text;

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
        card.AppendLine("---").AppendLine("tags:").AppendLine("- merge").AppendLine("- chatvector").AppendLine("---").AppendLine();
        card.AppendLine($"# Merged with ChatVector from a mergekit config").AppendLine();
        card.AppendLine($"Method: `{config.Method.Name}` ({config.Method.Description}).").AppendLine();
        card.AppendLine($"Base model: `{config.BaseModel!.Reference}`.").AppendLine();
        card.AppendLine("Models:");
        foreach (var model in config.Models) card.AppendLine($"- `{model.Reference}`");
        card.AppendLine();
        card.AppendLine("Computed in float32 (float64 for F64 tensors) from the stored values and rounded once to the output dtype.").AppendLine();
        card.AppendLine("## Configuration").AppendLine().AppendLine("```yaml").Append(config.Text.TrimEnd()).AppendLine().AppendLine("```");
        return card.ToString();
    }
}
