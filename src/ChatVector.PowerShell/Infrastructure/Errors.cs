using ChatVector.Core.Config;
using ChatVector.Core.Methods;
using System.Management.Automation;
using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.IO;
using ChatVector.Core.Lora;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tokenization;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>
/// The one place that turns an exception into an ErrorRecord: a stable id and a category per cause
/// (tests assert "Id,ChatVector.PowerShell.Cmdlets.XCommand"), the target, and a message saying what to do.
/// </summary>
internal static class Errors
{
    /// <summary>A record for <paramref name="exception"/>; <paramref name="writing"/> says whether the failed work was writing <paramref name="target"/>.</summary>
    public static ErrorRecord From(Exception exception, object? target, bool writing = false)
    {
        if (exception is Core.Inference.InferenceException inference) return InferenceErrors.From(inference, target);
        if (!IsWrittenForUsers(exception)) return Unexpected(exception, target, writing);
        var (id, category, advice) = Classify(exception, writing);
        var record = new ErrorRecord(exception, id, category, target ?? (exception as InputRuleException)?.FilePath ?? (exception as TokenizerFileException)?.FilePath);
        if (advice is not null) record.ErrorDetails = new ErrorDetails($"{exception.Message} {advice}");
        return record;
    }

    private static (string Id, ErrorCategory Category, string? Advice) Classify(Exception exception, bool writing) => exception switch
    {
        DuplicateTensorNamesException => ("DuplicateTensorName", ErrorCategory.InvalidArgument, null),
        MergeConfigException => ("MergeConfigInvalid", ErrorCategory.InvalidData, null),
        MethodParameterException => ("MethodParameterInvalid", ErrorCategory.InvalidArgument, null),
        SafeTensorException { Rule: SafeTensorRule.FileNotFound } => ("FileNotFound", ErrorCategory.ObjectNotFound, null),
        ModelFolderException { Rule: ModelFolderRule.PickleWeightsRefused } => ("PickleWeightsRefused", ErrorCategory.SecurityError, null),
        LoraAdapterException { Rule: LoraAdapterRule.PickleAdapterRefused } => ("PickleAdapterRefused", ErrorCategory.SecurityError, null),
        LoraAdapterException { Rule: LoraAdapterRule.AdapterConfigMissing or LoraAdapterRule.AdapterWeightsMissing } e => (e.RuleName, ErrorCategory.ObjectNotFound, null),
        LoraAdapterException { Rule: LoraAdapterRule.DoraNotAdditive or LoraAdapterRule.AdapterNotLora or LoraAdapterRule.AdapterFeatureNotSupported } e
            => (e.RuleName, ErrorCategory.NotImplemented, null),
        InputRuleException e => (e.RuleName, ErrorCategory.InvalidData, null),
        TokenizerFileException e => (e.Problem.ToString(), e.Problem switch
        {
            TokenizerProblem.TokenizerLibraryMissing => ErrorCategory.NotInstalled,
            TokenizerProblem.TokenizerMissing => ErrorCategory.ObjectNotFound,
            _ => ErrorCategory.InvalidData,
        }, null),
        OperationCanceledException => ("Cancelled", ErrorCategory.OperationStopped, null),
        InsufficientSpaceException => ("NoSpace", ErrorCategory.WriteError, null), // the free-space check before writing
        NonFiniteValuesException => ("NonFiniteValues", ErrorCategory.InvalidResult, null),
        ExportInProgressException => ("ExportInProgress", ErrorCategory.ResourceBusy, "Wait for it to finish, or export to another path."),
        IOException or UnauthorizedAccessException => ClassifyIo(exception, writing),
        InvalidDataException => ("InvalidData", ErrorCategory.InvalidData, null),
        ArgumentException => ("InvalidArgument", ErrorCategory.InvalidArgument, null),
        NotSupportedException => ("NotSupported", ErrorCategory.NotImplemented, null),
        _ => (exception.GetType().Name, ErrorCategory.NotSpecified, null),
    };

    /// <summary>
    /// Whether the exception's message was written by ChatVector for the user (or is the system's own report of an
    /// I/O failure, which names the file). Anything else (a library's message, a null reference, a missing key) would
    /// show internal text: it means a check is missing, and <see cref="Unexpected"/> reports it without that text.
    /// </summary>
    private static bool IsWrittenForUsers(Exception exception) => exception switch
    {
        InputRuleException or OperationCanceledException or IOException or UnauthorizedAccessException or ItemNotFoundException => true,
        NullReferenceException or KeyNotFoundException or IndexOutOfRangeException or InvalidCastException or ArgumentNullException
            or DivideByZeroException or NotImplementedException => false,
        // Thrown by ChatVector's code, or built by it and never thrown (a library's exception always was thrown).
        _ => exception.StackTrace is null || exception.Source?.StartsWith("ChatVector", StringComparison.Ordinal) == true,
    };

    /// <summary>A failure no check foresaw: a plain message (the internal one stays in the record's inner exception).</summary>
    private static ErrorRecord Unexpected(Exception exception, object? target, bool writing)
    {
        var where = target is null ? "" : $" {(writing ? "writing" : "on")} {target}";
        var message = $"Failed unexpectedly{where}. ChatVector has no clearer message for this failure, which is a ChatVector bug: " +
            "please report it with the details that -Verbose shows (the error record keeps them too).";
        return new ErrorRecord(new InvalidOperationException(message, exception), "UnexpectedFailure", ErrorCategory.NotSpecified, target);
    }

    private static (string, ErrorCategory, string?) ClassifyIo(Exception exception, bool writing) => IoFailure.Classify(exception) switch
    {
        IoFailureKind.NotFound => ("PathNotFound", ErrorCategory.ObjectNotFound, null),
        IoFailureKind.PermissionDenied => ("PermissionDenied", ErrorCategory.PermissionDenied,
            writing ? "Choose a folder you may write to." : "Check the file's permissions."),
        IoFailureKind.ReadOnly => ("TargetReadOnly", ErrorCategory.PermissionDenied, "The file system is mounted read-only; export to another place."),
        IoFailureKind.NoSpace => ("NoSpace", ErrorCategory.WriteError, "The disk is full; free space or export to another disk. Nothing was left behind."),
        IoFailureKind.Busy => ("FileInUse", ErrorCategory.ResourceBusy, "Another process holds the file; close it and try again."),
        _ => writing ? ("WriteFailed", ErrorCategory.WriteError, null) : ("ReadFailed", ErrorCategory.ReadError, null),
    };

    /// <summary>A path the user gave that names nothing (a missing item, or a wildcard that matches none).</summary>
    public static ErrorRecord NotFound(string path, string parameterName, bool literal, Exception? inner = null)
    {
        var message = !literal && WildcardPattern.ContainsWildcardCharacters(path)
            ? $"-{parameterName} '{path}' matches no file or folder. [ ] * ? are wildcards in -{parameterName}; to name a path that contains them, use -LiteralPath."
            : $"{path}: no such file or folder.";
        return new ErrorRecord(new ItemNotFoundException(message, inner), "PathNotFound", ErrorCategory.ObjectNotFound, path);
    }

    public static ErrorRecord Argument(string message, object? target) =>
        new(new ArgumentException(message), "InvalidArgument", ErrorCategory.InvalidArgument, target);

    /// <summary>A record with an explicit id and category, for problems that are not exceptions.</summary>
    public static ErrorRecord Problem(string id, ErrorCategory category, string message, object? target) =>
        new(new InvalidOperationException(message), id, category, target) { ErrorDetails = new ErrorDetails(message) };
}
