using ChatVector.Core.Format;

namespace ChatVector.Core.Models;

/// <summary>A model folder or index that breaks a <see cref="ModelFolderRule"/>; the message names the file, the tensor and the rule.</summary>
public sealed class ModelFolderException(ModelFolderRule rule, string filePath, string detail, string? tensorName = null, Exception? inner = null)
    : InputRuleException(rule.ToString(), filePath, detail, tensorName, inner)
{
    public ModelFolderRule Rule { get; } = rule;
}
