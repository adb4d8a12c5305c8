namespace ChatVector.PowerShell.Output;

/// <summary>What a handle stands for: a tensor in a file, a chat vector, or a merged tensor.</summary>
public enum TensorKind
{
    Stored,
    ChatVector,
    Merged,
}
