namespace ChatVector.Host;

/// <summary>Parsed command line: cvhost [-Module &lt;psd1&gt;] (-File &lt;script.ps1&gt; [args...] | -Command '&lt;text&gt;').</summary>
internal sealed record HostOptions(string? ModulePath, string? ScriptFile, IReadOnlyList<string> ScriptArgs, string? Command)
{
    public const string Usage =
        "usage: cvhost [-Module <ChatVector.psd1>] -Command '<PowerShell text>'\n" +
        "       cvhost [-Module <ChatVector.psd1>] -File <script.ps1> [args...]\n" +
        "Imports ChatVector (found by walking up from the current folder, then from cvhost's own folder,\n" +
        "unless -Module is given) into an in-process PowerShell 7 engine and runs the command or script.\n" +
        "Exit code: 0 success, 1 an error was written or the run failed, 2 bad usage.";

    /// <summary>Parses <paramref name="args"/>; null with <paramref name="error"/> set on bad usage.
    /// Everything after -Command (joined by spaces) or after -File's path belongs to the script.</summary>
    public static HostOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        string? module = null;
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (Is(a, "-Module", "-m"))
            {
                if (i + 1 >= args.Count) { error = "-Module needs a path."; return null; }
                module = args[++i];
            }
            else if (Is(a, "-Command", "-c"))
            {
                var text = string.Join(' ', args.Skip(i + 1));
                if (string.IsNullOrWhiteSpace(text)) { error = "-Command needs the text to run."; return null; }
                return new HostOptions(module, null, [], text);
            }
            else if (Is(a, "-File", "-f"))
            {
                if (i + 1 >= args.Count) { error = "-File needs a script path."; return null; }
                return new HostOptions(module, args[i + 1], args.Skip(i + 2).ToList(), null);
            }
            else if (Is(a, "-Help", "-h", "-?", "--help"))
            {
                return null;
            }
            else
            {
                error = $"Unexpected argument '{a}'.";
                return null;
            }
        }
        error = "Give -Command or -File.";
        return null;
    }

    private static bool Is(string arg, params string[] names) =>
        names.Any(n => string.Equals(arg, n, StringComparison.OrdinalIgnoreCase));
}
