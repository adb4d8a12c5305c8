using System.Runtime.InteropServices;

namespace ChatVector.Core.Runtime;

/// <summary>
/// The Microsoft Visual C++ 2015-2022 runtime (x64) that the win-x64 libtorch natives import: c10.dll and
/// torch_cpu.dll import all three DLLs below, libiomp5md.dll imports VCRUNTIME140.dll. Windows does not
/// ship it and no package the build can use serves it, so a server must install the redistributable. Without
/// it the first native load fails with Windows' bare "one of its dependencies" message; checking first names
/// what to install.
/// </summary>
public static class VisualCppRuntime
{
    /// <summary>The runtime's DLLs the shipped natives import (checked against their import tables by a test).</summary>
    public static IReadOnlyList<string> Dlls { get; } = ["MSVCP140.dll", "VCRUNTIME140.dll", "VCRUNTIME140_1.dll"];

    public const string Redistributable = "Microsoft Visual C++ 2015-2022 Redistributable (x64)";
    public const string DownloadUrl = "https://aka.ms/vs/17/release/vc_redist.x64.exe";

    /// <summary>On Windows, throws naming the redistributable when one of <see cref="Dlls"/> cannot be loaded.</summary>
    public static void RequireOnWindows()
    {
        if (OperatingSystem.IsWindows()) Require(name => NativeLibrary.TryLoad(name, out _));
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the redistributable and every DLL <paramref name="canLoad"/> refuses.</summary>
    public static void Require(Func<string, bool> canLoad)
    {
        var missing = Dlls.Where(dll => !canLoad(dll)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"libtorch needs the {Redistributable}, which is not installed here: {string.Join(", ", missing)} cannot be loaded. " +
                $"Install it ({DownloadUrl}, or 'winget install Microsoft.VCRedist.2015+.x64'), then start a new PowerShell session.");
    }
}
