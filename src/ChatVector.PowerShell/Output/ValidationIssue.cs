using ChatVector.Core.Validation;

namespace ChatVector.PowerShell.Output;

/// <summary>One problem Test-SafeTensor found: where, which rule, what exactly.</summary>
public sealed class ValidationIssue
{
    internal ValidationIssue(ValidationProblem problem)
    {
        File = problem.File;
        Tensor = problem.Tensor;
        Rule = problem.Rule;
        Message = problem.Message;
    }

    public string File { get; }
    public string? Tensor { get; }
    /// <summary>The rule broken, e.g. HeaderTooLarge, ChecksumMismatch, NonFiniteValues.</summary>
    public string Rule { get; }
    public string Message { get; }

    public override string ToString() => Message;
}
