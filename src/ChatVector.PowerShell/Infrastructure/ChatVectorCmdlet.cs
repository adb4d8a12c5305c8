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
    private CancellationTokenSource? _cancellation;
    private Stopwatch? _sinceProgress; // null until the first report, which always goes out

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing runs on another thread).</summary>
    protected CancellationToken Cancellation => (_cancellation ??= new CancellationTokenSource()).Token;

    protected override void BeginProcessing() => _cancellation ??= new CancellationTokenSource();

    protected override void StopProcessing() => _cancellation?.Cancel();

    /// <summary>Existing paths, wildcards expanded, through the provider so ~ and relative paths work.</summary>
    protected IEnumerable<string> ResolveExisting(string path)
    {
        Collection<string> resolved;
        try
        {
            resolved = GetResolvedProviderPathFromPSPath(path, out var provider);
            if (provider.Name != "FileSystem") throw new ArgumentException($"'{path}' is not a file system path.");
        }
        catch (ItemNotFoundException e)
        {
            WriteError(Errors.NotFound(path, e));
            yield break;
        }
        foreach (var item in resolved) yield return item;
    }

    /// <summary>One existing path that must resolve to exactly one item; terminating otherwise.</summary>
    protected string ResolveSingleExisting(string path, string parameterName)
    {
        try
        {
            var resolved = GetResolvedProviderPathFromPSPath(path, out var provider);
            if (provider.Name != "FileSystem" || resolved.Count != 1)
                ThrowTerminatingError(Errors.Argument($"-{parameterName} '{path}' must name one file system item; it resolves to {resolved.Count}.", path));
            return resolved[0];
        }
        catch (ItemNotFoundException e)
        {
            ThrowTerminatingError(Errors.NotFound(path, e));
            throw; // unreachable
        }
    }

    /// <summary>A path that may not exist yet (an output).</summary>
    protected string ResolveNew(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

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
    protected void ReportProgress(int activityId, string activity, string status, double fraction, bool final = false)
    {
        if (!final && _sinceProgress is { ElapsedMilliseconds: < 250 }) return;
        (_sinceProgress ??= new Stopwatch()).Restart();
        var record = new ProgressRecord(activityId, activity, status)
        {
            PercentComplete = (int)Math.Clamp(fraction * 100, 0, 100),
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
