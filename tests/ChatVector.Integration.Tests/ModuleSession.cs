using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ChatVector.Integration.Tests;

/// <summary>What one <see cref="ModuleSession.Run"/> produced, stream by stream.</summary>
public sealed record RunResult(
    IReadOnlyList<PSObject> Output,
    IReadOnlyList<ErrorRecord> Errors,
    IReadOnlyList<WarningRecord> Warnings,
    IReadOnlyList<VerboseRecord> Verbose,
    bool HadErrors)
{
    /// <summary>Error messages joined, for assertion messages.</summary>
    public string ErrorText => string.Join(Environment.NewLine, Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}"));
}

/// <summary>
/// A runspace with the real PowerShell 7 engine (Core cmdlets only) and ChatVector imported from
/// the repository's manifest, exactly as a user would import it.
/// </summary>
public sealed class ModuleSession : IDisposable
{
    private readonly Runspace _runspace;

    public ModuleSession()
    {
        var iss = InitialSessionState.CreateDefault2();
        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.Open();
        var import = Run("Import-Module -Name $m -ErrorAction Stop -PassThru", new Dictionary<string, object> { ["m"] = RepoPaths.Manifest });
        if (import.HadErrors || import.Output.Count == 0)
            throw new InvalidOperationException($"Import-Module {RepoPaths.Manifest} failed: {import.ErrorText}");
        Module = (PSModuleInfo)import.Output[0].BaseObject;
    }

    public PSModuleInfo Module { get; }

    /// <summary>Runs <paramref name="script"/> with <paramref name="variables"/> set first. A terminating error
    /// is caught and reported in <see cref="RunResult.Errors"/>, so tests assert on one shape.</summary>
    public RunResult Run(string script, IDictionary<string, object>? variables = null, bool verbose = false)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        foreach (var (name, value) in variables ?? new Dictionary<string, object>())
            _runspace.SessionStateProxy.SetVariable(name, value);
        _runspace.SessionStateProxy.SetVariable("VerbosePreference", verbose ? ActionPreference.Continue : ActionPreference.SilentlyContinue);
        ps.AddScript(script);

        Collection<PSObject> output;
        var errors = new List<ErrorRecord>();
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            output = [];
            errors.Add(e.ErrorRecord);
        }
        errors.InsertRange(0, ps.Streams.Error);
        return new RunResult(
            output.Where(o => o is not null).ToList(),
            errors,
            ps.Streams.Warning.ToList(),
            ps.Streams.Verbose.ToList(),
            ps.HadErrors || errors.Count > 0);
    }

    public void Dispose() => _runspace.Dispose();
}

/// <summary>One imported module shared by a test class (import costs seconds: libtorch is big).</summary>
public sealed class ModuleSessionFixture : IDisposable
{
    public ModuleSession Session { get; } = new();
    public void Dispose() => Session.Dispose();
}
