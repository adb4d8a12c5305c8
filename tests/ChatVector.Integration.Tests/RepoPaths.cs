namespace ChatVector.Integration.Tests;

/// <summary>Locates the repository (the folder holding ChatVector.PowerShell.sln) and what the build laid out there.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();
    public static string Manifest => Path.Combine(Root, "ChatVector.psd1");
    public static string DepsDir => Path.Combine(Root, "module", "bin", "deps");

    /// <summary>cvhost.dll as built by the Host project in the same configuration as these tests.</summary>
    public static string HostDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug"; // bin/<Configuration>/net10.0/
            var dir = Path.Combine(Root, "src", "ChatVector.Host", "bin", configuration, "net10.0");
            return Path.Combine(dir, "cvhost.dll");
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatVector.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException($"ChatVector.PowerShell.sln not found above {AppContext.BaseDirectory}.");
    }
}
