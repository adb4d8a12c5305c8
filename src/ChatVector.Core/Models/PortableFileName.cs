namespace ChatVector.Core.Models;

/// <summary>
/// File names that a Windows file system cannot hold as written. A model written on Linux is copied to and
/// loaded on Windows servers, so the same names are refused on every OS: the same merge must give the same
/// model everywhere.
/// </summary>
public static class PortableFileName
{
    // Win32 opens these as devices whatever the extension or folder (nul.safetensors is the null device).
    // The superscript digits are devices too (COM¹ ... LPT³); so are CONIN$ and CONOUT$.
    private static readonly HashSet<string> DeviceNames = new(
        new[] { "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$" }
            .Concat(new[] { "COM", "LPT" }.SelectMany(port => "0123456789\u00b9\u00b2\u00b3".Select(digit => port + digit))),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Why Windows cannot hold <paramref name="name"/> (one path segment) as written, or null when it can.</summary>
    public static string? Problem(string name)
    {
        // Win32 strips trailing dots and spaces: "a.safetensors." would be written as, and collide with, "a.safetensors".
        if (name.EndsWith('.') || name.EndsWith(' ')) return "ends with a dot or a space, which Windows removes";
        // The device is matched on the part before the first dot, without trailing spaces ("NUL .json" too).
        var stem = name.Split('.')[0].TrimEnd(' ');
        return DeviceNames.Contains(stem) ? $"is the Windows device name {stem.ToUpperInvariant()}, which Windows opens as a device whatever the extension" : null;
    }
}
