using System.Collections;
using System.Globalization;
using System.Management.Automation;
using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Tensors;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Writes the tensor handles on the pipeline to a safetensors file or a sharded model folder.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "SafeTensor", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = PathSet)]
[OutputType(typeof(FileInfo), typeof(DirectoryInfo))]
public sealed class ExportSafeTensorCommand : ChatVectorCmdlet
{
    private readonly List<TensorHandle> _handles = [];

    /// <summary>A .safetensors file, or a folder for a sharded model. Wildcards must match one existing item.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string Path { get; set; } = "";

    /// <summary>The target taken exactly as written ([ ] * ? are part of the name).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    public string LiteralPath { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public TensorHandle[] InputObject { get; set; } = [];

    /// <summary>Largest shard, e.g. 5GB (the default), 2GB, 500MB; decimal units as transformers uses.</summary>
    [Parameter]
    public string MaxShardSize { get; set; } = "5GB";

    /// <summary>Extra string entries for every file's __metadata__.</summary>
    [Parameter]
    public Hashtable? Metadata { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Record a checksum of every tensor in its file's metadata (Test-SafeTensor -Data verifies it).</summary>
    [Parameter]
    public SwitchParameter Checksum { get; set; }

    /// <summary>Output the written file or folder (by default, as Export- cmdlets do, nothing).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>After writing, read the result back and validate it, data and checksums included.</summary>
    [Parameter]
    public SwitchParameter Verify { get; set; }

    /// <summary>Write computed tensors even when they hold NaN or Inf values (by default that fails the export and nothing is written).</summary>
    [Parameter]
    public SwitchParameter AllowNonFinite { get; set; }

    /// <summary>cpu (default), cuda or cuda:N: where merged tensors are computed.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(DeviceCompleter))]
    public string? Device { get; set; }

    protected override object? FailureTarget => Literal ? LiteralPath : Path;

    protected override void ProcessRecordCore() => _handles.AddRange(InputObject);

    protected override void EndProcessingCore()
    {
        // Without its trailing separator (tab completion's ./m/): that names the folder m, not a file inside it.
        // "m.safetensors/" asks for a folder by its separator and a file by its name: which one is not ours to guess.
        string given = Literal ? LiteralPath : Path;
        if (given.Length > 1 && given[^1] is '/' or '\\' && given.TrimEnd('/', '\\').EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            ThrowTerminatingError(Errors.Argument($"-{(Literal ? nameof(LiteralPath) : nameof(Path))} '{given}' ends with a separator, as a folder does, and in .safetensors, as a file does: drop the separator to write one file, or give the folder another name.", given));
        var target = StagedTarget.Normalize(Literal ? ResolveNew(LiteralPath, literal: true, nameof(LiteralPath)) : ResolveNew(Path, literal: false, nameof(Path)));
        if (_handles.Count == 0)
        {
            // An empty pipeline (a -Name that matched nothing) must not produce an empty "model".
            WriteWarning($"No tensors arrived on the pipeline; {target} was not written.");
            return;
        }
        long maxShard = ParseShardSize();
        // Everything up to the layout reads headers only: a refusal here leaves the disk untouched.
        ExportRequest request;
        ExportLayout layout;
        try
        {
            // Names first: the ratio and sparsification records built next are keyed by name.
            DuplicateTensorNamesException.ThrowIfAny(_handles.Select(h => h.Name), "one model");
            var output = OutputExtras.Combine(_handles.Select(h => new OutputTensor(h.Source, h.Inheritance, h.Ratio)).ToList(), ToStrings(Metadata));
            request = new ExportRequest(target, _handles.Select(h => h.Source).ToList(), maxShard, output.Metadata, Force, output.SideFiles,
                Checksums: Checksum || Verify, AllowNonFinite: AllowNonFinite);
            layout = ExportLayout.Arrange(request);
        }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, target));
            return;
        }

        if (!ShouldProcess(target, Describe(request, layout))) return;
        WriteVerbose(Describe(request, layout));
        // Copying stored tensors needs no libtorch: re-sharding works even where it cannot load.
        var context = CreateComputeContext(Device, loadNow: _handles.Any(h => h.Source is not StoredTensorSource));
        ExportOutcome? outcome = null;
        try
        {
            outcome = ModelExporter.Export(request, layout, context, p => ReportProgress(1, $"Export-SafeTensor {target}",
                $"{p.TensorsDone}/{p.TensorsTotal} tensors, {ByteSize.Format(p.BytesDone)} of {ByteSize.Format(p.BytesTotal)}: {p.CurrentTensor} -> {p.CurrentFile}",
                p.BytesTotal == 0 ? 1 : (double)p.BytesDone / p.BytesTotal));
        }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, target, writing: true));
        }
        finally
        {
            ReportProgress(1, $"Export-SafeTensor {target}", "done", 1, final: true);
        }
        foreach (var warning in outcome?.Warnings ?? []) WriteWarning(warning);
        if (outcome is { NonFinite.Count: > 0 } written)
            WriteWarning($"{target}: written with NaN/Inf values (-AllowNonFinite) in {written.NonFinite.Count} tensor(s): {string.Join("; ", written.NonFinite.Take(5))}");
        if (Verify) VerifyWritten(target);
        if (PassThru) WriteObject(request.IsSingleFile ? new FileInfo(target) : new DirectoryInfo(target));
    }

    private void VerifyWritten(string target)
    {
        var report = Core.Validation.ModelValidator.Validate(target, checkData: true, Cancellation);
        foreach (var problem in report.Problems.Where(p => p.Rule != "NonFiniteValues"))
            WriteError(Errors.Problem(problem.Rule, ErrorCategory.InvalidResult, problem.Message, problem.File));
        if (report.NaNCount + report.InfCount > 0)
            WriteWarning($"{target}: {report.NaNCount} NaN and {report.InfCount} Inf values in the written tensors.");
        WriteVerbose($"{target}: verified {report.ChecksumsVerified} of {report.Tensors} tensor checksums.");
    }

    private long ParseShardSize()
    {
        try { return ByteSize.Parse(MaxShardSize); }
        catch (FormatException e) { ThrowTerminatingError(Errors.Argument($"-{nameof(MaxShardSize)} {e.Message}", MaxShardSize)); return 0; }
    }

    private static string Describe(ExportRequest request, ExportLayout layout)
    {
        var files = string.Join(", ", layout.Files.Select(f => $"{f.FileName} ({f.Sources.Count} tensors, {ByteSize.Format(f.Prepared.TotalLength)})"));
        var extra = request.IsSingleFile ? "" : string.Concat(
            layout.Index is null ? "" : $", {Core.Models.ModelIndex.FileName}",
            request.SideFiles is null ? "" : ", " + string.Join(", ", request.SideFiles.FileNames()));
        return $"Write {request.Tensors.Count} tensors ({ByteSize.Format(layout.TotalTensorBytes)}) as {files}{extra}";
    }

    /// <summary>
    /// -Metadata as the header's text values. A list, a table or an object has no one text form (.NET would write its type
    /// name), and 'format' is the header's own entry (safetensors writes "pt"): each is refused, naming the key.
    /// </summary>
    private static Dictionary<string, string> ToStrings(Hashtable? table)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table ?? new Hashtable())
        {
            string key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "";
            object? value = entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value;
            string text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            if (key == "format" && text != "pt")
                throw new ArgumentException("-Metadata 'format' is the safetensors header's own entry (written as \"pt\" for PyTorch's loaders); give your value another key.");
            if (value is IDictionary or PSCustomObject || value is IEnumerable and not string)
                throw new ArgumentException($"-Metadata '{key}' is {(value is IDictionary ? "a table" : value is PSCustomObject ? "an object" : "a list")}; safetensors metadata values are text: give a string (for example ($values -join ',') or ConvertTo-Json -Compress).");
            values[key] = value is FileSystemInfo file ? file.FullName : text;
        }
        return values;
    }
}
