using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text.RegularExpressions;

namespace ChatVector.Host;

/// <summary>Output to stdout; warning/verbose/debug lines to stderr with pwsh's prefixes; progress
/// shown as one compact line per completed activity on stderr. Prompts are not supported (no TTY assumed).</summary>
internal sealed partial class ConsoleHostUI(bool plainText) : PSHostUserInterface
{
    private readonly ConsoleRawUI _raw = new();

    public override PSHostRawUserInterface RawUI => _raw;

    public override void Write(string value) => Console.Out.Write(Clean(value));
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Out.Write(Clean(value));
    public override void WriteLine(string value) => Console.Out.WriteLine(Clean(value));
    public override void WriteErrorLine(string value) => Console.Error.WriteLine(Clean(value));
    public override void WriteWarningLine(string message) => Console.Error.WriteLine($"WARNING: {Clean(message)}");
    public override void WriteVerboseLine(string message) => Console.Error.WriteLine($"VERBOSE: {Clean(message)}");
    public override void WriteDebugLine(string message) => Console.Error.WriteLine($"DEBUG: {Clean(message)}");

    /// <summary>The formatter embeds $PSStyle colour escapes whatever $PSStyle.OutputRendering says;
    /// pwsh's console host strips them for plain output, so we do too.</summary>
    private string Clean(string value) => plainText ? AnsiEscape().Replace(value, "") : value;

    [GeneratedRegex(@"\x1b\[[0-9;?]*[ -/]*[@-~]")]
    private static partial Regex AnsiEscape();

    public override void WriteInformation(InformationRecord record)
    {
        // Write-Host-style records (tag PSHOST) are already echoed by the engine through Write/WriteLine.
    }

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        if (record.RecordType == ProgressRecordType.Completed && !Console.IsErrorRedirected)
            Console.Error.WriteLine($"PROGRESS: {record.Activity} done.");
    }

    public override string ReadLine() => Console.ReadLine() ?? "";

    public override SecureString ReadLineAsSecureString() =>
        throw new NotSupportedException("cvhost cannot read secure input.");

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
        throw new NotSupportedException($"cvhost cannot prompt ('{caption}'): pass every mandatory parameter.");

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw new NotSupportedException("cvhost cannot prompt for credentials.");

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
        throw new NotSupportedException("cvhost cannot prompt for credentials.");

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) =>
        throw new NotSupportedException($"cvhost cannot prompt ('{caption}: {message}'): use -Confirm:$false or -Force.");
}
