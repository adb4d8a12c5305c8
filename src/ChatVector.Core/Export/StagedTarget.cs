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
    private bool _committed;

    private StagedTarget(string targetPath, string stagingPath, FileStream lockFile, bool force)
    {
        TargetPath = targetPath;
        StagingPath = stagingPath;
        _lock = lockFile;
        _force = force;
    }

    public string TargetPath { get; }
    /// <summary>Where to write; for a folder it already exists.</summary>
    public string StagingPath { get; }

    public static StagedTarget Begin(string targetPath, bool isFolder, bool force)
    {
        targetPath = Normalize(targetPath);
        var parent = Path.GetDirectoryName(targetPath) ?? throw new IOException($"{targetPath}: cannot write at a filesystem root");
        var name = Path.GetFileName(targetPath);
        RefuseExisting(targetPath, isFolder, force);
        Directory.CreateDirectory(parent);
        var lockFile = AcquireLock(Path.Combine(parent, $".{name}.lock"), targetPath);
        try
        {
            RefuseExisting(targetPath, isFolder, force); // again, now that no other export can be racing us
            var staging = Path.Combine(parent, $".{name}.partial-{Guid.NewGuid():N}");
            if (isFolder) Directory.CreateDirectory(staging);
            return new StagedTarget(targetPath, staging, lockFile, force);
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
            Move(TargetPath, displaced, isFolder);
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
        if (displaced is not null) DeleteQuietly(displaced);
    }

    private static void Move(string from, string to, bool isFolder)
    {
        if (isFolder) Directory.Move(from, to);
        else File.Move(from, to);
    }

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
