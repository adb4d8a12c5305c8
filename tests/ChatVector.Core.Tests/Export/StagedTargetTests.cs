using ChatVector.Core.Export;
using ChatVector.Core.Tests.Format;
using Xunit;

namespace ChatVector.Core.Tests.Export;

/// <summary>The staging, lock and commit of an export target, without a merge in front of them.</summary>
public class StagedTargetTests
{
    private static void StageOneFile(StagedTarget target, string text = "staged")
    {
        File.WriteAllText(Path.Combine(target.StagingPath, "model.safetensors"), text);
        target.Commit();
    }

    /// <summary>Every entry of <paramref name="folder"/> and below, relative to it, with '/' between parts.</summary>
    private static string[] Tree(string folder) =>
        Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(folder, p).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void A_folder_target_with_a_trailing_separator_is_written_as_that_folder()
    {
        using var dir = new TempDir();
        var written = dir.File("m") + Path.DirectorySeparatorChar; // what tab completion of a folder gives
        using (var target = StagedTarget.Begin(written, isFolder: true, force: false)) StageOneFile(target);
        Assert.Equal(["m", "m/model.safetensors"], Tree(dir.Path));
    }

    [Fact]
    public void Replacing_a_folder_target_named_with_a_trailing_separator_leaves_only_the_new_folder()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("m/old.txt"), "old");
        using (var target = StagedTarget.Begin(dir.File("m") + Path.DirectorySeparatorChar, isFolder: true, force: true)) StageOneFile(target, "new");
        Assert.Equal(["m", "m/model.safetensors"], Tree(dir.Path));
    }

    [Fact]
    public void An_export_request_holds_its_target_without_the_trailing_separator()
    {
        using var dir = new TempDir();
        var request = new ExportRequest(dir.File("m") + Path.AltDirectorySeparatorChar, []);
        Assert.Equal(dir.File("m"), request.TargetPath);
        Assert.False(request.IsSingleFile);
    }
}
