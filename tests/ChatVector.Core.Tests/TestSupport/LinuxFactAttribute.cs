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

/// <summary>
/// A fact that runs text through the Hugging Face tokenizers library, whose package serves linux-x64 only:
/// elsewhere it is reported as skipped, saying why.
/// </summary>
public sealed class TokenizerLibraryFactAttribute : FactAttribute
{
    public TokenizerLibraryFactAttribute()
    {
        if (System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier != "linux-x64")
            Skip = "the Hugging Face tokenizers library is shipped for linux-x64 only";
    }
}
