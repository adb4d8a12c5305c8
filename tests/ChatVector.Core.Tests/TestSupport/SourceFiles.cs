namespace ChatVector.Core.Tests;

/// <summary>The C# sources of a project folder, for the tests that read the code itself (build outputs left out).</summary>
internal static class SourceFiles
{
    /// <summary>Every .cs file below <paramref name="root"/> but obj/ and bin/, with its path relative to it ('/' separated).</summary>
    public static IEnumerable<(string Path, string Relative)> Under(string root) =>
        from file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
        let relative = System.IO.Path.GetRelativePath(root, file).Replace('\\', '/')
        where !relative.StartsWith("obj/", StringComparison.Ordinal) && !relative.StartsWith("bin/", StringComparison.Ordinal)
        select (file, relative);
}
