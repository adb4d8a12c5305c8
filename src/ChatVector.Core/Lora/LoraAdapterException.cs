using ChatVector.Core.Format;

namespace ChatVector.Core.Lora;

/// <summary>An adapter folder that breaks a <see cref="LoraAdapterRule"/>; the message names the file, the key or tensor, and the rule.</summary>
public sealed class LoraAdapterException(LoraAdapterRule rule, string filePath, string detail, string? tensorName = null, Exception? inner = null)
    : InputRuleException(rule.ToString(), filePath, detail, tensorName, inner)
{
    public LoraAdapterRule Rule { get; } = rule;
}
