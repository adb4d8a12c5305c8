namespace ChatVector.Core.Validation;

/// <summary>One thing wrong with a file or folder: where, which rule, what exactly.</summary>
public sealed record ValidationProblem(string File, string? Tensor, string Rule, string Message);

/// <summary>Everything found wrong with one file or model folder (empty when valid).</summary>
public sealed record ValidationReport(string Path, int Files, int Tensors, IReadOnlyList<ValidationProblem> Problems)
{
    public bool IsValid => Problems.Count == 0;
    public bool DataChecked { get; init; }
    public long NaNCount { get; init; }
    public long InfCount { get; init; }
    public int ChecksumsVerified { get; init; }
}
