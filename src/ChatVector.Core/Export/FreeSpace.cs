namespace ChatVector.Core.Export;

/// <summary>
/// The free-space check an export runs before writing its first byte: a full disk found halfway through
/// a 16 GB model costs the time spent and the space of the staged part.
/// </summary>
public static class FreeSpace
{
    /// <summary>
    /// Throws <see cref="InsufficientSpaceException"/> when the filesystem that will hold
    /// <paramref name="targetPath"/> has less than <paramref name="neededBytes"/> free.
    /// <paramref name="availableBytes"/> answers for an existing folder (default: the filesystem's own figure).
    /// </summary>
    public static void Require(string targetPath, long neededBytes, Func<string, long>? availableBytes = null)
    {
        var folder = NearestExistingFolder(Path.GetFullPath(targetPath));
        if (folder is null) return; // nothing exists to ask; creating the folder will fail clearly instead
        long available = (availableBytes ?? Available)(folder);
        if (available < neededBytes) throw new InsufficientSpaceException(targetPath, folder, neededBytes, available);
    }

    /// <summary>
    /// Bytes free to this user on the filesystem holding <paramref name="folder"/> (statvfs on Unix).
    /// A filesystem that cannot say counts as large enough: the check is there to fail early, and a
    /// full disk during the write still removes what was staged.
    /// </summary>
    public static long Available(string folder)
    {
        try { return new DriveInfo(folder).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return long.MaxValue; }
    }

    /// <summary>The target's parent, or its nearest ancestor that exists (the export creates the rest).</summary>
    private static string? NearestExistingFolder(string targetPath)
    {
        for (var folder = Path.GetDirectoryName(targetPath); folder is not null; folder = Path.GetDirectoryName(folder))
            if (Directory.Exists(folder)) return folder;
        return null;
    }
}
