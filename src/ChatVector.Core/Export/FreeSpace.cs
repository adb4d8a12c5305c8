using System.Runtime.InteropServices;

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
    /// Bytes free to this user on the filesystem holding <paramref name="folder"/> itself: asked of the folder,
    /// not of a drive, so a folder that is a mount point, a junction onto another volume or a UNC share
    /// (\\nas\models) gets its own figure. Windows: GetDiskFreeSpaceEx (DriveInfo would take the drive root
    /// and refuse UNC paths); elsewhere .NET's DriveInfo, which is statvfs of the path as given.
    /// A filesystem that cannot say counts as large enough: the check is there to fail early, and a
    /// full disk during the write still removes what was staged.
    /// </summary>
    public static long Available(string folder)
    {
        try { return OperatingSystem.IsWindows() ? WindowsAvailable(folder) : new DriveInfo(folder).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return long.MaxValue; }
    }

    private static long WindowsAvailable(string folder)
    {
        // A UNC folder must end with a backslash; any folder may.
        var directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        if (!GetDiskFreeSpaceEx(directory, out var availableToCaller, out _, out _))
            throw new IOException($"{folder}: the free space cannot be read", Marshal.GetHRForLastWin32Error());
        return availableToCaller > long.MaxValue ? long.MaxValue : (long)availableToCaller;
    }

    [DllImport("kernel32.dll", EntryPoint = "GetDiskFreeSpaceExW", CharSet = CharSet.Unicode, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool GetDiskFreeSpaceEx(string directoryName, out ulong freeBytesAvailableToCaller, out ulong totalNumberOfBytes, out ulong totalNumberOfFreeBytes);

    /// <summary>The target's parent, or its nearest ancestor that exists (the export creates the rest).</summary>
    private static string? NearestExistingFolder(string targetPath)
    {
        for (var folder = Path.GetDirectoryName(targetPath); folder is not null; folder = Path.GetDirectoryName(folder))
            if (Directory.Exists(folder)) return folder;
        return null;
    }
}
