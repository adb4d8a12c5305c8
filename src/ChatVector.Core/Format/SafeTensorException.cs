namespace ChatVector.Core.Format;

/// <summary>A file that breaks a <see cref="SafeTensorRule"/>; the message names the file, the tensor and the rule.</summary>
public sealed class SafeTensorException(SafeTensorRule rule, string filePath, string detail, string? tensorName = null, Exception? inner = null)
    : InputRuleException(rule.ToString(), filePath, detail, tensorName, inner)
{
    public SafeTensorRule Rule { get; } = rule;
}
