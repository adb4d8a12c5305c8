using ChatVector.Core.Runtime;

namespace ChatVector.Core.Tests;

/// <summary>Where the tests find real files: the repository, the module's patched natives, the NuGet cache.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>module/bin/deps: laid out (and libLibTorchSharp.so patched) by building ChatVector.PowerShell,
    /// which this project references for build order.</summary>
    public static string ModuleDeps => Path.Combine(RepoRoot, "module", "bin", "deps");

    /// <summary>The untouched libLibTorchSharp.so from the NuGet global packages folder (NUGET_PACKAGES or ~/.nuget/packages).</summary>
    public static string PackageLibTorchSharp
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            if (string.IsNullOrEmpty(root))
                root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, "torchsharp", TorchRuntime.TorchSharpVersion, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    /// <summary>Points TorchRuntime at the module's patched natives (the test output only holds TorchSharp's
    /// unpatched libLibTorchSharp.so and no libtorch). A value already set by the caller wins.</summary>
    public static void UseModuleNatives()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TorchRuntime.NativeDirEnvVar)))
            Environment.SetEnvironmentVariable(TorchRuntime.NativeDirEnvVar, ModuleDeps);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatVector.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException($"ChatVector.PowerShell.sln not found above {AppContext.BaseDirectory}.");
    }
}
