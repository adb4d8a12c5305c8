using System.Globalization;
using System.Management.Automation.Host;

namespace ChatVector.Host;

/// <summary>
/// The smallest PSHost that lets the engine's own formatter (Out-Default, which lives in
/// System.Management.Automation) print objects through the module's format views: the SMA NuGet
/// package has no Utility module, so Out-String/Format-Table are not there to call.
/// </summary>
internal sealed class ConsoleHost : PSHost
{
    private readonly ConsoleHostUI _ui;

    /// <param name="plainText">Strip colour escapes (output redirected, or NO_COLOR set).</param>
    public ConsoleHost(bool plainText) => _ui = new ConsoleHostUI(plainText);

    public override string Name => "cvhost";
    public override Version Version { get; } = typeof(ConsoleHost).Assembly.GetName().Version ?? new Version(0, 1);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    /// <summary>Set when a script calls <c>exit N</c>.</summary>
    public int? ExitCode { get; private set; }

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    public override void EnterNestedPrompt() => throw new NotSupportedException("cvhost has no interactive prompt.");
    public override void ExitNestedPrompt() => throw new NotSupportedException("cvhost has no interactive prompt.");
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}
