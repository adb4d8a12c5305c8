using ChatVector.Core.Export;
using ChatVector.Core.IO;
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
        File.WriteAllText(dir.File("m/old.safetensors"), "old");
        File.WriteAllText(dir.File("m/old.txt"), "old");
        using (var target = StagedTarget.Begin(dir.File("m") + Path.DirectorySeparatorChar, isFolder: true, force: true)) StageOneFile(target, "new");
        Assert.Equal(["m", "m/model.safetensors"], Tree(dir.Path));
    }

    [Fact]
    public void Force_does_not_replace_a_folder_of_other_files()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("m/notes.txt"), "mine");
        var e = Assert.Throws<IOException>(() => StagedTarget.Begin(dir.File("m"), isFolder: true, force: true).Dispose());
        Assert.Contains("holds files but no model", e.Message);
        Assert.Equal(["m", "m/notes.txt"], Tree(dir.Path)); // nothing staged or locked is left beside it either
        // An empty folder is replaced, hidden files aside, and so is a model saved as pickle weights.
        Directory.CreateDirectory(dir.File("empty"));
        File.WriteAllText(dir.File("empty/.DS_Store"), "");
        using (var target = StagedTarget.Begin(dir.File("empty"), isFolder: true, force: true)) StageOneFile(target, "new");
        Assert.Contains("empty/model.safetensors", Tree(dir.Path));
        Directory.CreateDirectory(dir.File("pickled"));
        File.WriteAllText(dir.File("pickled/pytorch_model.bin"), "");
        using (var target = StagedTarget.Begin(dir.File("pickled"), isFolder: true, force: true)) StageOneFile(target, "new");
        Assert.Contains("pickled/model.safetensors", Tree(dir.Path));
    }

    [Fact]
    public void An_export_request_holds_its_target_without_the_trailing_separator()
    {
        using var dir = new TempDir();
        var request = new ExportRequest(dir.File("m") + Path.AltDirectorySeparatorChar, []);
        Assert.Equal(dir.File("m"), request.TargetPath);
        Assert.False(request.IsSingleFile);
    }

    [Fact]
    public void A_target_another_process_holds_open_is_refused_as_in_use_before_anything_is_written()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("m/model.safetensors"), "loaded");
        // A reader that holds the file (on Linux, .NET's shared lock stands in for a Windows server's open handle).
        using (new FileStream(dir.File("m/model.safetensors"), FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            var e = Assert.Throws<TargetInUseException>(() => StagedTarget.Begin(dir.File("m"), isFolder: true, force: true));
            Assert.Equal(IoFailureKind.Busy, IoFailure.Classify(e));
            Assert.Contains("in use", e.Message);
            Assert.Contains(Path.Combine("m", "model.safetensors"), e.Message);
        }
        Assert.Equal(["m", "m/model.safetensors"], Tree(dir.Path));
        Assert.Equal("loaded", File.ReadAllText(dir.File("m/model.safetensors")));
    }

    [Fact]
    public void Leftovers_of_earlier_exports_to_the_target_are_swept_under_the_lock()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File(".m.old-0123"));
        File.WriteAllText(dir.File(".m.old-0123/model.safetensors"), "old");
        File.WriteAllText(dir.File(".m.partial-4567"), "crashed");
        File.WriteAllText(dir.File(".other.old-89ab"), "another target's");
        using (var target = StagedTarget.Begin(dir.File("m"), isFolder: true, force: false))
        {
            Assert.Empty(target.Warnings);
            StageOneFile(target);
        }
        Assert.Equal([".other.old-89ab", "m", "m/model.safetensors"], Tree(dir.Path));
    }

    [Fact]
    public void A_leftover_that_cannot_be_deleted_is_a_warning_naming_it_not_a_failure()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File(".m.safetensors.old-0123"), "held by a reader");
        var held = dir.File(".m.safetensors.old-0123");
        void DeleteExceptHeld(string path) { if (path == held) throw new IOException("The process cannot access the file because it is being used by another process."); StagedTarget.Delete(path); }
        using (var target = StagedTarget.Begin(dir.File("m.safetensors"), isFolder: false, force: false, DeleteExceptHeld))
        {
            var warning = Assert.Single(target.Warnings);
            Assert.Contains(held, warning);
            Assert.Contains("could not be deleted", warning);
            File.WriteAllText(target.StagingPath, "new");
            target.Commit();
        }
        Assert.Equal("new", File.ReadAllText(dir.File("m.safetensors")));
    }

    [Fact]
    public void A_replaced_target_that_cannot_be_deleted_is_a_warning_and_the_new_one_is_in_place()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.safetensors"), "old");
        void RefuseOld(string path) { if (Path.GetFileName(path).StartsWith(".m.safetensors.old-")) throw new IOException("in use"); StagedTarget.Delete(path); }
        using var target = StagedTarget.Begin(dir.File("m.safetensors"), isFolder: false, force: true, RefuseOld);
        File.WriteAllText(target.StagingPath, "new");
        target.Commit();
        var warning = Assert.Single(target.Warnings);
        Assert.Contains(".m.safetensors.old-", warning);
        Assert.Contains("next export", warning);
        Assert.Equal("new", File.ReadAllText(dir.File("m.safetensors")));
    }
}
