using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;

namespace ChatVector.Host;

/// <summary>Imports the module into a fresh runspace, runs the script or command piped to
/// Out-Default (so the module's format views apply) and turns the outcome into an exit code.</summary>
internal static class ScriptRunner
{
    public static int Run(HostOptions options, string manifest)
    {
        // Colour escapes only help a terminal; logs and test captures get plain text.
        var plainText = Console.IsOutputRedirected || Environment.GetEnvironmentVariable("NO_COLOR") is not null;
        var host = new ConsoleHost(plainText);
        var iss = InitialSessionState.CreateDefault2();
        if (OperatingSystem.IsWindows())
            iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass; // -File scripts would be blocked otherwise

        using var runspace = RunspaceFactory.CreateRunspace(host, iss);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;

        var errors = 0;
        ps.Streams.Error.DataAdded += (_, e) =>
        {
            ErrorPrinter.Print(ps.Streams.Error[e.Index]);
            Interlocked.Increment(ref errors);
        };

        if (!Invoke(ps, p => p.AddCommand("Import-Module").AddParameter("Name", manifest).AddParameter("ErrorAction", "Stop")))
            return 1;
        if (errors > 0) return 1;

        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // keep the process alive; stopping the pipeline ends the run cleanly
            ps.BeginStop(null, null);
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var ok = Invoke(ps, p =>
            {
                p.AddScript(options.Command ?? FileInvocation(options.ScriptFile!, options.ScriptArgs));
                p.AddCommand("Out-Default");
            });
            if (host.ExitCode is { } code) return code; // 'exit N' at the top of -Command
            // 'exit N' inside a -File script sets $LASTEXITCODE (so does a failing native command), as with pwsh -File.
            if (options.ScriptFile is not null && runspace.SessionStateProxy.GetVariable("LASTEXITCODE") is int last and not 0)
                return last;
            return ok && errors == 0 && !ps.HadErrors ? 0 : 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs one pipeline; a terminating error is printed and reported as false.</summary>
    private static bool Invoke(PowerShell ps, Action<PowerShell> build)
    {
        ps.Commands.Clear();
        build(ps);
        try
        {
            ps.Invoke();
            return true;
        }
        catch (PipelineStoppedException)
        {
            Console.Error.WriteLine("cvhost: stopped.");
            return false;
        }
        catch (RuntimeException e)
        {
            ErrorPrinter.Print(e.ErrorRecord);
            return false;
        }
    }

    /// <summary>"&amp; 'script.ps1' -Name 'value'": arguments that look like parameter names stay
    /// names (as with pwsh -File); everything else is passed as a quoted string.</summary>
    internal static string FileInvocation(string file, IReadOnlyList<string> args)
    {
        var text = new StringBuilder("& ").Append(Quote(Path.GetFullPath(file)));
        foreach (var arg in args)
        {
            text.Append(' ');
            var isParameterName = arg.Length > 1 && arg[0] == '-' && (char.IsLetter(arg[1]) || arg[1] == '_')
                                  && arg.Skip(1).All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or ':');
            text.Append(isParameterName ? arg : Quote(arg));
        }
        return text.ToString();
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
}
