namespace ChatVector.Core.IO;

/// <summary>Why a file system operation failed, as far as the user can act on it.</summary>
public enum IoFailureKind
{
    Other,
    NotFound,
    PermissionDenied,
    ReadOnly,
    NoSpace,
    /// <summary>Another process holds a lock or sharing mode on the file.</summary>
    Busy,
}

/// <summary>
/// Tells the causes of an I/O exception apart. .NET gives one exception type for most of them; the cause
/// is in HResult: on Unix the raw errno, on Windows 0x8007xxxx with the Win32 error code.
/// </summary>
public static class IoFailure
{
    // Windows: HRESULT_FROM_WIN32 of ERROR_WRITE_PROTECT, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION,
    // ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL.
    private const int WinWriteProtect = unchecked((int)0x80070013), WinSharing = unchecked((int)0x80070020), WinLock = unchecked((int)0x80070021),
        WinHandleDiskFull = unchecked((int)0x80070027), WinDiskFull = unchecked((int)0x80070070);
    // Unix errno (.NET puts it in HResult): ENOSPC, EROFS are the same on Linux and macOS; EDQUOT and EWOULDBLOCK differ.
    private const int ENOSPC = 28, EROFS = 30;
    private static readonly int EDQUOT = OperatingSystem.IsLinux() ? 122 : 69, EWOULDBLOCK = OperatingSystem.IsLinux() ? 11 : 35;

    /// <summary>The HResult of a sharing violation on this OS (what <see cref="IoFailureKind.Busy"/> is classified from).</summary>
    public static int SharingViolation => OperatingSystem.IsWindows() ? WinSharing : EWOULDBLOCK;

    public static IoFailureKind Classify(Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => IoFailureKind.NotFound,
        UnauthorizedAccessException => IoFailureKind.PermissionDenied,
        IOException { HResult: var code } when IsNoSpace(code) => IoFailureKind.NoSpace,
        IOException { HResult: var code } when IsReadOnly(code) => IoFailureKind.ReadOnly,
        IOException { HResult: var code } when IsBusy(code) => IoFailureKind.Busy,
        _ => IoFailureKind.Other,
    };

    private static bool IsNoSpace(int code) => OperatingSystem.IsWindows()
        ? code is WinDiskFull or WinHandleDiskFull
        : code == ENOSPC || code == EDQUOT;

    private static bool IsReadOnly(int code) => OperatingSystem.IsWindows() ? code == WinWriteProtect : code == EROFS;

    private static bool IsBusy(int code) => OperatingSystem.IsWindows() ? code is WinSharing or WinLock : code == EWOULDBLOCK;
}
