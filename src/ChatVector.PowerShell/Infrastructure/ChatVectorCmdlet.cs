using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Management.Automation;
using ChatVector.Core.Tensors;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>
/// What every ChatVector cmdlet shares: provider path resolution, cancellation wired to Ctrl+C,
/// error records with ids and categories, and throttled progress.
/// </summary>
public abstract class ChatVectorCmdlet : PSCmdlet, IDisposable
{
    /// <summary>Parameter sets of path-taking cmdlets: -Path expands wildcards, -LiteralPath does not.</summary>
    protected const string PathSet = "Path", LiteralPathSet = "LiteralPath";

    /// <summary>True when the paths came through -LiteralPath.</summary>
    protected bool Literal => ParameterSetName == LiteralPathSet;

    private CancellationTokenSource? _cancellation;
    private Stopwatch? _sinceProgress; // null until the first report, which always goes out

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing runs on another thread).</summary>
    protected CancellationToken Cancellation => (_cancellation ??= new CancellationTokenSource()).Token;

    // The three stages run guarded: a failure the cmdlet did not turn into an ErrorRecord itself still becomes
    // one (Errors.From), so no user ever sees a bare exception from a library. Cmdlets override the *Core methods.
    protected sealed override void BeginProcessing()
    {
        _cancellation ??= new CancellationTokenSource();
        Guarded(BeginProcessingCore);
    }

    protected sealed override void ProcessRecord() => Guarded(ProcessRecordCore);

    protected sealed override void EndProcessing() => Guarded(EndProcessingCore);

    protected virtual void BeginProcessingCore() { }

    protected virtual void ProcessRecordCore() { }

    protected virtual void EndProcessingCore() { }

    /// <summary>What an unexpected failure names as its target (the cmdlet's main input or output path); null when none fits.</summary>
    protected virtual object? FailureTarget => null;

    protected override void StopProcessing() => _cancellation?.Cancel();

    /// <summary>
    /// An exception of PowerShell's own (a terminating error already recorded, -ErrorAction Stop, a stopped pipeline,
    /// or a downstream <c>break</c>/<c>continue</c>, which reaches a cmdlet's WriteObject as a flow-control exception):
    /// never a failure to report, always to let through.
    /// </summary>
    protected static bool IsEngineSignal(Exception e) => e.GetType().Assembly == typeof(PSCmdlet).Assembly;

    private void Guarded(Action stage)
    {
        try { stage(); }
        // PowerShell's own exceptions pass: ThrowTerminatingError, -ErrorAction Stop and a stopped pipeline carry their
        // record, and a downstream `break` (a flow-control exception, not a RuntimeException) must keep its meaning.
        catch (Exception e) when (!IsEngineSignal(e))
        {
            WriteVerbose($"{MyInvocation.MyCommand.Name} failed: {e}");
            ThrowTerminatingError(Errors.From(e, FailureTarget));
        }
    }

    /// <summary>
    /// The existing file system items a -Path (wildcards expanded) or -LiteralPath (taken as written) names,
    /// through the provider so ~ and relative paths work. Names nothing: a non-terminating PathNotFound.
    /// </summary>
    protected IReadOnlyList<string> ResolveExisting(string path, bool literal, string parameterName)
    {
        try
        {
            if (literal)
            {
                var single = ResolveLiteral(path, parameterName);
                if (Exists(single)) return [single];
                WriteError(Errors.NotFound(path, parameterName, literal));
                return [];
            }
            var resolved = GetResolvedProviderPathFromPSPath(path, out var provider);
            RequireFileSystem(provider, path, parameterName);
            if (resolved.Count == 0) WriteError(Errors.NotFound(path, parameterName, literal)); // an unmatched wildcard is silent otherwise
            return resolved;
        }
        catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException)
        {
            WriteError(Errors.NotFound(path, parameterName, literal, e));
            return [];
        }
    }

    /// <summary>Every existing item the bound -Path or -LiteralPath names, in order.</summary>
    protected IEnumerable<string> ResolveExisting(string[] paths, bool literal) =>
        paths.SelectMany(path => ResolveExisting(path, literal, literal ? "LiteralPath" : "Path"));

    /// <summary>
    /// A model or folder parameter (-Base, -Chat, -Model, -Reference...): one existing item, taken as written
    /// (no wildcards: it must name exactly one model). Terminating when it names nothing.
    /// </summary>
    protected string ResolveSingleExisting(string path, string parameterName)
    {
        string resolved;
        try { resolved = ResolveLiteral(path, parameterName); }
        catch (System.Management.Automation.DriveNotFoundException e) { ThrowTerminatingError(Errors.NotFound(path, parameterName, literal: true, e)); throw; }
        if (!Exists(resolved)) ThrowTerminatingError(Errors.NotFound(path, parameterName, literal: true));
        return resolved;
    }

    /// <summary>
    /// An output path that may not exist yet. With wildcards (not literal) it must match exactly one
    /// existing item, as Out-File and Export-Csv do; otherwise it is taken as written.
    /// </summary>
    protected string ResolveNew(string path, bool literal, string parameterName)
    {
        if (literal || !WildcardPattern.ContainsWildcardCharacters(path)) return ResolveLiteral(path, parameterName);
        Collection<string> resolved;
        try
        {
            resolved = GetResolvedProviderPathFromPSPath(path, out var provider);
            RequireFileSystem(provider, path, parameterName);
        }
        catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException)
        {
            ThrowTerminatingError(Errors.NotFound(path, parameterName, literal, e));
            throw; // unreachable
        }
        if (resolved.Count == 0) ThrowTerminatingError(Errors.NotFound(path, parameterName, literal));
        if (resolved.Count > 1)
            ThrowTerminatingError(Errors.Argument($"-{parameterName} '{path}' matches {resolved.Count} items; it must name one target.", path));
        return resolved[0];
    }

    private string ResolveLiteral(string path, string parameterName)
    {
        var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
        RequireFileSystem(provider, path, parameterName);
        return resolved;
    }

    private void RequireFileSystem(ProviderInfo provider, string path, string parameterName)
    {
        if (provider.Name != "FileSystem")
            ThrowTerminatingError(Errors.Argument($"-{parameterName} '{path}' is a {provider.Name} path; ChatVector reads and writes files.", path));
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    /// <summary>
    /// Stops, one error per handle, when some input is not a chat vector (a model's own weights from Get-SafeTensor, or a
    /// merge's output): adding those as vectors would add a whole model, silently. Vectors are Get-ChatVector's and
    /// Limit-ChatVector's handles, a LoRA adapter's, and saved vectors read back (their metadata says so).
    /// </summary>
    protected void StopUnlessVectors(IEnumerable<Output.TensorHandle> handles, string errorId, string action)
    {
        var refused = handles.Where(h => h.Kind != Output.TensorKind.ChatVector).ToList();
        if (refused.Count == 0) return;
        foreach (var handle in refused)
            WriteError(Errors.Problem("NotAVector", ErrorCategory.InvalidArgument,
                $"'{handle.Name}' ({handle.Kind}{(handle.Model is null ? "" : $", from {handle.Model}")}) is not a chat vector: pipe Get-ChatVector's output, Limit-ChatVector's, Get-LoraVector's, or a saved vector (Get-SafeTensor of a folder Export-SafeTensor wrote from vectors; a difference saved by another tool becomes one when re-exported with -Metadata @{{ 'chatvector.kind' = 'vector' }}).", handle));
        ThrowTerminatingError(Errors.Problem(errorId, ErrorCategory.InvalidArgument,
            $"{refused.Count} input(s) are not chat vectors (see the errors above); nothing was {action}.", null));
    }

    /// <summary>
    /// A merge plan's notes (verbose), warnings, and vectors with no tensor in the model; then, when it has problems, one
    /// error each and a terminating error: nothing is emitted. Shared by the cmdlets that plan a merge into a model.
    /// </summary>
    /// <param name="unusedOutcome">What happens to a vector without a tensor of its name ("not added").</param>
    /// <param name="merge">The merge's name in the terminating error ("merge", "slerp merge").</param>
    protected void ReportPlan(ChatVector.Core.Merge.MergePlan plan, string modelPath, string unusedOutcome, string merge)
    {
        foreach (var note in plan.Notes) WriteVerbose(note);
        foreach (var warning in plan.Warnings) WriteWarning(warning);
        if (plan.UnusedVectors.Count > 0)
            WriteWarning($"{plan.UnusedVectors.Count} vector tensor(s) have no tensor of that name in {modelPath} and are {unusedOutcome}: {string.Join(", ", plan.UnusedVectors.Take(10))}");
        if (plan.Problems.Count == 0) return;
        foreach (var problem in plan.Problems) WriteError(Errors.Problem("MergeProblem", ErrorCategory.InvalidData, problem, modelPath));
        ThrowTerminatingError(Errors.Problem("MergeNotPossible", ErrorCategory.InvalidData,
            $"{plan.Problems.Count} problem(s) stop the {merge} into {modelPath} (see the errors above); nothing was emitted.", modelPath));
    }

    /// <summary>
    /// A context on <paramref name="device"/>. With <paramref name="loadNow"/> false (nothing to compute,
    /// no device asked for) libtorch is not loaded at all; otherwise it is loaded and the device checked
    /// here, so a bad device is one clear error before any work.
    /// </summary>
    protected ComputeContext CreateComputeContext(string? device, bool loadNow = true)
    {
        try
        {
            var context = new ComputeContext(device, Cancellation);
            if (loadNow || device is not null) _ = context.Device;
            return context;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "DeviceUnavailable", ErrorCategory.DeviceError, device));
            throw; // unreachable
        }
    }

    /// <summary>Write-Progress at most a few times a second, always for the first and the last report.</summary>
    /// <param name="fraction">Done so far, 0 to 1; NaN when the total is not known (a pipeline still arriving).</param>
    protected void ReportProgress(int activityId, string activity, string status, double fraction, bool final = false)
    {
        if (!final && _sinceProgress is { ElapsedMilliseconds: < 250 }) return;
        (_sinceProgress ??= new Stopwatch()).Restart();
        var record = new ProgressRecord(activityId, activity, status)
        {
            PercentComplete = double.IsNaN(fraction) ? -1 : (int)Math.Clamp(fraction * 100, 0, 100),
            RecordType = final ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        WriteProgress(record);
    }

    public void Dispose()
    {
        _cancellation?.Dispose();
        GC.SuppressFinalize(this);
    }
}
