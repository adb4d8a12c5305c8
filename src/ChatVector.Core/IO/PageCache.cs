namespace ChatVector.Core.IO;

/// <summary>
/// Hints to the system's page cache about ranges of input files (Linux: posix_fadvise). Hints only: any failure is
/// ignored, and elsewhere they do nothing.
/// </summary>
public static class PageCache
{
    /// <summary>
    /// Asks the system to start reading the range into the page cache now, in the background (WILLNEED), so a later
    /// read finds it there. Models larger than the page cache are read from disk during a merge; without the hint each
    /// worker waited for its own 1 MB read, with it the disk works ahead of them.
    /// </summary>
    public static void WillNeed(FileRange range) => Advise(range, PosixFadvWillNeed);

    /// <summary>Tells the system the range's cached pages will not be read again (DONTNEED), so they are the first to go.</summary>
    public static void DontNeed(FileRange range) => Advise(range, PosixFadvDontNeed);

    private static void Advise(FileRange range, int advice)
    {
        if (!OperatingSystem.IsLinux() || range.Length == 0 || !_canAdvise) return;
        try
        {
            using var opened = File.OpenHandle(range.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            _ = PosixFadvise((int)opened.DangerousGetHandle(), range.Offset, range.Length, advice);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _canAdvise = false; }
    }

    private const int PosixFadvDontNeed = 4;
    private const int PosixFadvWillNeed = 3;
    private static bool _canAdvise = true;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int PosixFadvise(int fd, long offset, long length, int advice);
}
