namespace ChatVector.Core.Format;

/// <summary>
/// An input (a file, or a model folder) that breaks one rule of the layer that read it. Each layer has its
/// own subclass and rule enum (<see cref="SafeTensorException"/> for the file format,
/// <c>ModelFolderException</c> for folders and indexes); this base lets a caller that only reports (a
/// validation, an error record) treat them alike. The message names the file, the tensor and the rule.
/// </summary>
public abstract class InputRuleException : Exception
{
    protected InputRuleException(string ruleName, string filePath, string detail, string? tensorName, Exception? inner)
        : base(Compose(ruleName, filePath, detail, tensorName), inner)
    {
        RuleName = ruleName;
        FilePath = filePath;
        TensorName = tensorName;
        Detail = detail;
    }

    /// <summary>The rule's name: the error id users see and the Rule of a validation problem.</summary>
    public string RuleName { get; }
    public string FilePath { get; }
    public string? TensorName { get; }
    public string Detail { get; }

    private static string Compose(string rule, string filePath, string detail, string? tensorName) =>
        tensorName is null
            ? $"{filePath}: {detail} ({rule})"
            : $"{filePath}: tensor '{tensorName}': {detail} ({rule})";
}
