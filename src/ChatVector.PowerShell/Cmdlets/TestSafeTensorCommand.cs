using System.Management.Automation;
using ChatVector.Core.Validation;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Validates safetensors files and model folders against the format's rules; reports every problem found.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "SafeTensor")]
[OutputType(typeof(ValidationResult), typeof(bool))]
public sealed class TestSafeTensorCommand : ChatVectorCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "FullName", "LiteralPath")]
    public string[] Path { get; set; } = [];

    /// <summary>Only $true or $false per path.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Also read the data: count NaN/Inf values and verify checksums recorded at export (-Checksum).</summary>
    [Parameter]
    public SwitchParameter Data { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            var resolved = TryResolve(path);
            var reports = resolved.Count == 0
                ? [new ValidationReport(path, 0, 0, [new ValidationProblem(path, null, "FileNotFound", $"{path}: no such file or folder.")])]
                : resolved.Select(r => ModelValidator.Validate(r, Data, Cancellation));
            foreach (var report in reports)
            {
                if (Quiet) WriteObject(report.IsValid);
                else WriteObject(new ValidationResult(report));
            }
        }
    }

    /// <summary>Never an error for a missing path: Test- answers, it does not fail.</summary>
    private IReadOnlyList<string> TryResolve(string path)
    {
        try { return GetResolvedProviderPathFromPSPath(path, out _); }
        catch (ItemNotFoundException) { return []; }
    }
}

/// <summary>Test-SafeTensor's answer for one path.</summary>
public sealed class ValidationResult(ValidationReport report)
{
    public string Path => report.Path;
    public bool Valid => report.IsValid;
    public int Files => report.Files;
    public int Tensors => report.Tensors;
    public ValidationProblem[] Problems => report.Problems.ToArray();
    /// <summary>With -Data: NaN and Inf values found, and how many tensors matched their recorded checksum.</summary>
    public long? NaNCount => report.DataChecked ? report.NaNCount : null;
    public long? InfCount => report.DataChecked ? report.InfCount : null;
    public int? ChecksumsVerified => report.DataChecked ? report.ChecksumsVerified : null;
}
