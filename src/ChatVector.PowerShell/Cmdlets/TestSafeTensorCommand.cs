using System.Management.Automation;
using ChatVector.Core.Format;
using ChatVector.Core.Validation;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Validates safetensors files and model folders against the format's rules; reports every problem found.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "SafeTensor", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ValidationResult), typeof(bool))]
public sealed class TestSafeTensorCommand : ChatVectorCmdlet
{
    /// <summary>Files or model folders; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>Files or model folders, taken exactly as written (Get-ChildItem output binds here; FullName for plain .NET file objects).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP", "FullName")]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Only $true or $false per path.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Also read the data: count NaN/Inf values and verify checksums recorded at export (-Checksum).</summary>
    [Parameter]
    public SwitchParameter Data { get; set; }

    protected override void ProcessRecordCore()
    {
        foreach (var path in Literal ? LiteralPath : Path)
        {
            var (resolved, provider) = TryResolve(path);
            var reports = provider is { } other
                ? [new ValidationReport(path, 0, 0, [new ValidationProblem(path, null, "NotAFile", $"{path} is a path of the {other} provider; Test-SafeTensor tests files and folders.")])]
                : resolved.Count == 0
                ? [new ValidationReport(path, 0, 0, [new ValidationProblem(path, null, "FileNotFound", $"{path}: no such file or folder.{WildcardHint(path)}")])]
                : resolved.Select(Validate);
            foreach (var report in reports)
            {
                if (Quiet) WriteObject(report.IsValid);
                else WriteObject(new ValidationResult(report));
            }
        }
    }

    private ValidationReport Validate(string path)
    {
        var activity = $"Test-SafeTensor {path}";
        try
        {
            return ModelValidator.Validate(path, Data, Cancellation, Data ? (done, total, tensor) => ReportProgress(3, activity,
                $"{tensor}: {ByteSize.Format(done)} of {ByteSize.Format(total)} read", total == 0 ? 1 : (double)done / total) : null);
        }
        finally
        {
            if (Data) ReportProgress(3, activity, "done", 1, final: true);
        }
    }

    /// <summary>
    /// Never an error for a missing path: Test- answers, it does not fail. The provider's name comes back for a path of
    /// another provider (Env:, Variable:), whose provider path is no file's.
    /// </summary>
    private (IReadOnlyList<string> Paths, string? OtherProvider) TryResolve(string path)
    {
        try
        {
            ProviderInfo provider;
            IReadOnlyList<string> paths;
            if (!Literal) paths = GetResolvedProviderPathFromPSPath(path, out provider);
            else
            {
                var literal = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
                paths = File.Exists(literal) || Directory.Exists(literal) ? [literal] : [];
            }
            return provider.Name == "FileSystem" ? (paths, null) : ([], provider.Name);
        }
        catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException)
        {
            // A missing item of another provider (Env:/NOPE) is still no file: say so, as for one that exists.
            try
            {
                SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
                return ([], provider.Name == "FileSystem" ? null : provider.Name);
            }
            catch (Exception inner) when (inner is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or ItemNotFoundException) { return ([], null); }
        }
    }

    private string WildcardHint(string path) =>
        !Literal && path.IndexOfAny(['[', ']']) >= 0 // a * or ? was most likely meant as a wildcard
            ? " ([ ] * ? are wildcards in -Path; use -LiteralPath for a name that holds them.)"
            : "";
}
