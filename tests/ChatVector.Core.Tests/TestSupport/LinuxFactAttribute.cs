using Xunit;

namespace ChatVector.Tests;

/// <summary>
/// A fact about Linux only (an ELF file, glibc's libstdc++): elsewhere it is reported as skipped, with
/// <paramref name="reason"/>, rather than passing without checking anything.
/// </summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(string reason)
    {
        if (!OperatingSystem.IsLinux()) Skip = $"Linux only: {reason}";
    }
}
