using ChatVector.Core.IO;

namespace ChatVector.Core.Export;

/// <summary>
/// Makes writing a file or folder all-or-nothing: everything is written into a hidden staging path
/// beside the target and renamed into place only when complete. A lock file beside the target keeps a
/// second export to the same target out; it is an OS lock, so a crashed run does not leave it held.
/// </summary>
public sealed class StagedTarget : IDisposable
{
    private readonly FileStream _lock;
    private readonly bool _force;
    private readonly Action<string> _delete;
    private readonly List<string> _warnings;
    private bool _committed;

    private StagedTarget(string targetPath, string stagingPath, FileStream lockFile, bool force, Action<string> delete, List<string> warnings)
    {
        TargetPath = targetPath;
        StagingPath = stagingPath;
        _lock = lockFile;
        _force = force;
        _delete = delete;
        _warnings = warnings;
    }

    public string TargetPath { get; }
    /// <summary>Where to write; for a folder it already exists.</summary>
    public string StagingPath { get; }
    /// <summary>What the user should know that did not stop the export: leftovers that could not be deleted.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <param name="delete">Deletes a file or folder (tests inject failures; default: <see cref="Delete"/>).</param>
    public static StagedTarget Begin(string targetPath, bool isFolder, bool force, Action<string>? delete = null)
    {
        delete ??= Delete;
        targetPath = Normalize(targetPath);
        var parent = Path.GetDirectoryName(targetPath) ?? throw new IOException($"{targetPath}: cannot write at a filesystem root");
        var name = Path.GetFileName(targetPath);
        RefuseExisting(targetPath, isFolder, force);
        RefuseFileOnTheWay(targetPath, parent);
        RefuseInUse(targetPath);
        Directory.CreateDirectory(parent);
        var lockFile = AcquireLock(Path.Combine(parent, $".{name}.lock"), targetPath);
        try
        {
            RefuseExisting(targetPath, isFolder, force); // again, now that no other export can be racing us
            var warnings = SweepLeftovers(parent, name, delete);
            var staging = Path.Combine(parent, $".{name}.partial-{Guid.NewGuid():N}");
            if (isFolder) Directory.CreateDirectory(staging);
            return new StagedTarget(targetPath, staging, lockFile, force, delete, warnings);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The full path without a trailing separator. Tab completion of a folder gives <c>./m/</c>; kept, its
    /// file name is empty, so the lock and staging would go inside the target instead of beside it.
    /// </summary>
    public static string Normalize(string targetPath) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(targetPath));

    private static void RefuseExisting(string targetPath, bool isFolder, bool force)
    {
        bool fileThere = File.Exists(targetPath), folderThere = Directory.Exists(targetPath);
        if (!fileThere && !folderThere) return;
        if (!force) throw new IOException($"{targetPath} already exists; use -Force to replace it.");
        if (isFolder ? fileThere : folderThere)
            throw new IOException($"{targetPath} exists as a {(fileThere ? "file" : "folder")}; a {(isFolder ? "model folder" : "file")} cannot replace it.");
        // -Force replaces a model (or an empty folder), never a folder of the user's other files, which would be lost.
        if (folderThere && Directory.EnumerateFileSystemEntries(targetPath).Any(e => !Path.GetFileName(e).StartsWith('.'))
            && !Directory.EnumerateFiles(targetPath).Any(f => WeightExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)))
            throw new IOException($"{targetPath} holds files but no model (no weights: {string.Join(", ", WeightExtensions)}); -Force replaces a model folder, not a folder of other files: choose another target, or empty it first.");
    }

    /// <summary>The files that make a folder a model's (hidden files, a desktop's .DS_Store, do not make it anything else).</summary>
    private static readonly string[] WeightExtensions = [".safetensors", ".bin", ".pt", ".pth", ".gguf"];

    /// <summary>The missing folders above the target are created; a file where one of them belongs would fail that with the system's bare "already exists".</summary>
    private static void RefuseFileOnTheWay(string targetPath, string parent)
    {
        for (var folder = parent; !string.IsNullOrEmpty(folder) && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
            if (File.Exists(folder))
                throw new IOException($"{targetPath}: {folder} is a file, so no folder can be made there; choose a target inside a folder.");
    }

    /// <summary>
    /// Before anything is written: a target another process has open cannot be replaced on Windows (a folder
    /// is not renamed while a file in it is open; a file mapped with FILE_SHARE_DELETE is renamed but then
    /// not deleted). Found by opening each file for exclusive use, which fails while anyone holds it.
    /// On Linux only another .NET process's lock shows (replacing works there anyway).
    /// </summary>
    private static void RefuseInUse(string targetPath)
    {
        var files = Directory.Exists(targetPath) ? Directory.EnumerateFiles(targetPath, "*", SearchOption.AllDirectories)
            : File.Exists(targetPath) ? [targetPath] : [];
        foreach (var file in files)
        {
            try { using var probe = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.None); }
            catch (IOException e) when (IoFailure.Classify(e) == IoFailureKind.Busy)
            {
                throw new TargetInUseException(
                    $"{targetPath} is in use: {file} is open in another process (a server that has the model loaded?), so it cannot be replaced. " +
                    "Stop that process or export to another path; nothing was written.", e);
            }
            catch (UnauthorizedAccessException) { } // unreadable is not in use; replacing it fails clearly at commit
        }
    }

    /// <summary>
    /// Under the lock no other export is writing, so a <c>.name.partial-*</c> or <c>.name.old-*</c> beside the
    /// target is left from an export that crashed, or an old target whose delete failed (on Windows, while a
    /// reader held it). Deleted now; what cannot be deleted is reported, not fatal.
    /// </summary>
    private static List<string> SweepLeftovers(string parent, string name, Action<string> delete)
    {
        var warnings = new List<string>();
        var leftovers = Directory.EnumerateFileSystemEntries(parent, $".{name}.partial-*")
            .Concat(Directory.EnumerateFileSystemEntries(parent, $".{name}.old-*"));
        foreach (var leftover in leftovers.ToList())
        {
            try { delete(leftover); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                warnings.Add($"{leftover}: left from an earlier export and could not be deleted ({e.Message}); delete it once no process holds it.");
            }
        }
        return warnings;
    }

    private static FileStream AcquireLock(string lockPath, string targetPath)
    {
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e) when (IoFailure.Classify(e) == IoFailureKind.Busy)
        {
            // Only a held lock means another export: a read-only or full file system fails here too.
            throw new ExportInProgressException($"{targetPath}: another export to this target is in progress (lock {lockPath} is held).", e);
        }
    }

    /// <summary>Moves the staged result into place; with force, the old target is replaced only after the new one is complete.</summary>
    public void Commit()
    {
        var isFolder = Directory.Exists(StagingPath);
        string? displaced = null;
        if (_force && (File.Exists(TargetPath) || Directory.Exists(TargetPath)))
        {
            displaced = Path.Combine(Path.GetDirectoryName(TargetPath)!, $".{Path.GetFileName(TargetPath)}.old-{Guid.NewGuid():N}");
            try { Move(TargetPath, displaced, isFolder); }
            catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException io && IoFailure.Classify(io) == IoFailureKind.Busy))
            {
                // The folder it is in may be written (the lock and staging are there), so on Windows this is a
                // file in the target opened since the check at the start, not a permission to fix.
                throw new TargetInUseException(
                    $"{TargetPath} could not be moved aside to be replaced: a file in it is open in another process (a server that has the model loaded?). " +
                    "Stop that process or export to another path; the existing target is unchanged.", e);
            }
        }
        try
        {
            Move(StagingPath, TargetPath, isFolder);
        }
        catch
        {
            if (displaced is not null) Move(displaced, TargetPath, isFolder); // put the old target back
            throw;
        }
        _committed = true;
        if (displaced is null) return;
        try { _delete(displaced); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warnings.Add($"{displaced}: the replaced {Path.GetFileName(TargetPath)} could not be deleted ({e.Message}); " +
                "a process still holds it. The next export to this target deletes it, or delete it yourself.");
        }
    }

    /// <summary>Deletes a file or a folder with everything in it.</summary>
    public static void Delete(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>A rename, retried while a scanner or indexer holds a file in it (Windows; see <see cref="SharingRetry"/>).</summary>
    private static void Move(string from, string to, bool isFolder) => SharingRetry.Run(() =>
    {
        if (isFolder) Directory.Move(from, to);
        else File.Move(from, to);
    });

    private static void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Without a commit, removes everything staged: a failed or cancelled export leaves nothing behind.</summary>
    public void Dispose()
    {
        if (!_committed) DeleteQuietly(StagingPath);
        _lock.Dispose();
    }
}
