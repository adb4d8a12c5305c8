using ChatVector.Core.Validation;

namespace ChatVector.PowerShell.Output;

/// <summary>Test-SafeTensor's answer for one path.</summary>
public sealed class ValidationResult
{
    internal ValidationResult(ValidationReport report)
    {
        Path = report.Path;
        Valid = report.IsValid;
        Files = report.Files;
        Tensors = report.Tensors;
        Problems = new PrintableList<ValidationIssue>(report.Problems.Select(p => new ValidationIssue(p)).ToList(), "; ", brackets: false);
        if (!report.DataChecked) return;
        NaNCount = report.NaNCount;
        InfCount = report.InfCount;
        ChecksumsVerified = report.ChecksumsVerified;
    }

    public string Path { get; }
    public bool Valid { get; }
    public int Files { get; }
    public int Tensors { get; }
    /// <summary>Every problem found; prints (and exports to CSV) as the messages joined by "; ".</summary>
    public PrintableList<ValidationIssue> Problems { get; }
    /// <summary>With -Data: NaN and Inf values found, and how many tensors matched their recorded checksum.</summary>
    public long? NaNCount { get; }
    public long? InfCount { get; }
    public int? ChecksumsVerified { get; }
}
