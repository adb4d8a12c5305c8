using System.Diagnostics;

namespace ChatVector.NativePatch.Tests;

/// <summary>The module's patched libLibTorchSharp.so and the untouched one in the NuGet cache.</summary>
internal static class NativePaths
{
    /// <summary>module/bin/deps, laid out (and libLibTorchSharp.so patched) by building ChatVector.PowerShell.</summary>
    public static string ModuleDeps { get; } = Path.Combine(FindRepoRoot(), "module", "bin", "deps");

    /// <summary>The copy in the NuGet global packages folder (NUGET_PACKAGES or ~/.nuget/packages), for the
    /// TorchSharp version the module ships (read from module/bin/deps/TorchSharp.dll).</summary>
    public static string PackageLibTorchSharp
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            if (string.IsNullOrEmpty(root))
                root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var version = FileVersionInfo.GetVersionInfo(Path.Combine(ModuleDeps, "TorchSharp.dll")).ProductVersion?.Split('+')[0];
            return Path.Combine(root, "torchsharp", version ?? "unknown", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatVector.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException($"ChatVector.PowerShell.sln not found above {AppContext.BaseDirectory}.");
    }
}
