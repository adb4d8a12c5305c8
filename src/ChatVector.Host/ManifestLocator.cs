namespace ChatVector.Host;

/// <summary>Finds ChatVector.psd1: walking up from the current folder (a checkout), then from
/// cvhost's own folder (cvhost built inside the repository or shipped beside the module).</summary>
internal static class ManifestLocator
{
    public const string ManifestName = "ChatVector.psd1";

    public static string? Find() =>
        WalkUp(Environment.CurrentDirectory) ?? WalkUp(AppContext.BaseDirectory);

    private static string? WalkUp(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ManifestName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
