namespace ChatVector.Integration.Tests;

/// <summary>Locates the repository (the folder holding ChatVector.PowerShell.sln) and what the build laid out there.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();
    public static string Manifest => Path.Combine(Root, "ChatVector.psd1");
    public static string DepsDir => Path.Combine(Root, "module", "bin", "deps");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatVector.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException($"ChatVector.PowerShell.sln not found above {AppContext.BaseDirectory}.");
    }
}
