using System.Management.Automation;
using ChatVector.Core.Inference;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>Error records for inference problems: the problem is the error id.</summary>
internal static class InferenceErrors
{
    public static ErrorRecord From(InferenceException e, object? target) =>
        new(e, e.Problem.ToString(), CategoryOf(e.Problem), target ?? e.Path);

    private static ErrorCategory CategoryOf(InferenceProblem problem) => problem switch
    {
        InferenceProblem.UnsupportedArchitecture or InferenceProblem.ChatTemplateNotRecognised => ErrorCategory.NotImplemented,
        InferenceProblem.ChatTemplateMissing or InferenceProblem.MissingWeight => ErrorCategory.ObjectNotFound,
        InferenceProblem.InputTooLong or InferenceProblem.InputTooShort or InferenceProblem.TokenOutOfRange => ErrorCategory.InvalidArgument,
        _ => ErrorCategory.InvalidData,
    };
}
