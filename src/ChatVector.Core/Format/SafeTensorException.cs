namespace ChatVector.Core.Format;

/// <summary>An input that breaks a <see cref="SafeTensorRule"/>; the message names the file, the tensor and the rule.</summary>
public sealed class SafeTensorException : Exception
{
    public SafeTensorException(SafeTensorRule rule, string filePath, string detail, string? tensorName = null, Exception? inner = null)
        : base(Compose(rule, filePath, detail, tensorName), inner)
    {
        Rule = rule;
        FilePath = filePath;
        TensorName = tensorName;
        Detail = detail;
    }

    public SafeTensorRule Rule { get; }
    public string FilePath { get; }
    public string? TensorName { get; }
    public string Detail { get; }

    private static string Compose(SafeTensorRule rule, string filePath, string detail, string? tensorName) =>
        tensorName is null
            ? $"{filePath}: {detail} ({rule})"
            : $"{filePath}: tensor '{tensorName}': {detail} ({rule})";
}
