using System.Management.Automation;
using ChatVector.Core.Export;
using ChatVector.Core.Format;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>Builds ErrorRecords with a stable id, a category and the target, from the engine's exceptions.</summary>
internal static class Errors
{
    public static ErrorRecord From(Exception exception, object? target) => exception switch
    {
        Core.Inference.InferenceException e => InferenceErrors.From(e, target),
        SafeTensorException { Rule: SafeTensorRule.FileNotFound } e => new ErrorRecord(e, e.Rule.ToString(), ErrorCategory.ObjectNotFound, target ?? e.FilePath),
        SafeTensorException { Rule: SafeTensorRule.PickleWeightsRefused } e => new ErrorRecord(e, e.Rule.ToString(), ErrorCategory.SecurityError, target ?? e.FilePath),
        SafeTensorException e => new ErrorRecord(e, e.Rule.ToString(), ErrorCategory.InvalidData, target ?? e.FilePath),
        InsufficientSpaceException e => new ErrorRecord(e, "NoSpace", ErrorCategory.ResourceUnavailable, target),
        NonFiniteValuesException e => new ErrorRecord(e, "NonFiniteValues", ErrorCategory.InvalidResult, target),
        OperationCanceledException e => new ErrorRecord(e, "Cancelled", ErrorCategory.OperationStopped, target),
        UnauthorizedAccessException e => new ErrorRecord(e, "AccessDenied", ErrorCategory.PermissionDenied, target),
        InvalidDataException e => new ErrorRecord(e, "InvalidData", ErrorCategory.InvalidData, target),
        IOException e => new ErrorRecord(e, "WriteFailed", ErrorCategory.WriteError, target),
        ArgumentException e => new ErrorRecord(e, "InvalidArgument", ErrorCategory.InvalidArgument, target),
        NotSupportedException e => new ErrorRecord(e, "NotSupported", ErrorCategory.NotImplemented, target),
        _ => new ErrorRecord(exception, exception.GetType().Name, ErrorCategory.NotSpecified, target),
    };

    public static ErrorRecord NotFound(string path, Exception inner) =>
        new(new FileNotFoundException($"{path}: no such file or folder.", path, inner), "PathNotFound", ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord Argument(string message, object? target) =>
        new(new ArgumentException(message), "InvalidArgument", ErrorCategory.InvalidArgument, target);

    /// <summary>A record with an explicit id and category, for problems that are not exceptions.</summary>
    public static ErrorRecord Problem(string id, ErrorCategory category, string message, object? target) =>
        new(new InvalidOperationException(message), id, category, target) { ErrorDetails = new ErrorDetails(message) };
}
