namespace ChatVector.Core.IO;

/// <summary>The memory the system reports available to new work without swapping.</summary>
public static class AvailableMemory
{
    /// <summary>Bytes available (Linux: MemAvailable in /proc/meminfo), or null where the system cannot say.</summary>
    public static long? Bytes()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            var kilobytes = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var number, ..] ? long.Parse(number, System.Globalization.CultureInfo.InvariantCulture) : (long?)null;
            return kilobytes * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }
}
