using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Reflection;
using ChatVector.PowerShell.Infrastructure;
using System.Runtime.Loader;

namespace ChatVector.PowerShell.Loading;

/// <summary>
/// Runs on Import-Module / Remove-Module. Routes ChatVector.Core (and whatever else lives in
/// module/bin/deps) into <see cref="DependencyLoadContext"/>.
/// </summary>
/// <remarks>
/// The cmdlet assembly sits in the default context (PowerShell loads it there); only its
/// reference to ChatVector.Core reaches the default context's Resolving event, and from then on
/// Core's own references (TorchSharp, ...) resolve inside our context. deps/ is a subfolder
/// precisely so that nothing there is found by the default probing first. Types that reach the
/// pipeline therefore live in the cmdlet assembly, not in Core.
/// </remarks>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly object Gate = new();
    private static DependencyLoadContext? _context;
    private static bool _registered;

    /// <summary>module/bin/deps, beside this assembly.</summary>
    internal static string DepsDirectory =>
        Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "deps");

    public void OnImport()
    {
        Register();
        if (BuildFlavor.IsDebug) WarnOnceThroughHost(BuildFlavor.DebugWarning);
    }

    private static bool _warnedOfDebugBuild;

    /// <summary>An import has no pipeline to write a warning to, so it goes to the importing session's host,
    /// once per process (a re-import says nothing new). Without a host (a bare runspace) Get-ChatVectorRuntime's
    /// Build property still tells.</summary>
    private static void WarnOnceThroughHost(string message)
    {
        lock (Gate)
        {
            if (_warnedOfDebugBuild) return;
            _warnedOfDebugBuild = true;
        }
        try
        {
            // Import-Module's pipeline is running on this thread, so the session's $Host is reached through a
            // nested pipeline (SessionStateProxy refuses while a pipeline runs).
            if (Runspace.DefaultRunspace is null) return;
            using var nested = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            nested.AddCommand("Get-Variable").AddParameter("Name", "Host").AddParameter("ValueOnly");
            if (nested.Invoke().FirstOrDefault()?.BaseObject is PSHost { UI: { } ui }) ui.WriteWarningLine(message);
        }
        catch (Exception e) when (e is PSInvalidOperationException or InvalidRunspaceStateException or RuntimeException or NotImplementedException)
        {
            // No usable host here; the warning is not worth failing an import for.
        }
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (Gate)
        {
            if (!_registered) return;
            AssemblyLoadContext.Default.Resolving -= ResolveFromDeps;
            _registered = false;
            // The context itself stays: loaded assemblies and natives cannot be unloaded; a
            // re-import reuses it so types keep their identity.
        }
    }

    /// <summary>Idempotent; also safe to call from anywhere that runs before Core is needed.</summary>
    internal static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            _context ??= new DependencyLoadContext(DepsDirectory);
            AssemblyLoadContext.Default.Resolving += ResolveFromDeps;
            _registered = true;
        }
    }

    private static Assembly? ResolveFromDeps(AssemblyLoadContext _, AssemblyName name)
    {
        // Only answer for what we ship: anything else is someone else's problem (null = not found here).
        var context = _context;
        if (context is null || !context.Owns(name)) return null;
        return context.LoadFromAssemblyName(name);
    }
}
