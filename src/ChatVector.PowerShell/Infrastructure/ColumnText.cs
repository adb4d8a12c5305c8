namespace ChatVector.PowerShell.Infrastructure;

/// <summary>
/// Shortens text for a fixed-width table column (module/ChatVector.format.ps1xml calls these), so tables
/// fit 80 columns without losing what tells rows apart. Public only so the format file can reach it.
/// </summary>
public static class ColumnText
{
    private const char Ellipsis = '\u2026';

    /// <summary>
    /// A tensor name in at most <paramref name="width"/> characters: the common "model." prefix goes first,
    /// then the middle, keeping the start (layer number) and the end (the tensor's role).
    /// </summary>
    public static string TensorName(string name, int width)
    {
        if (name.Length <= width) return name;
        if (name.StartsWith("model.", StringComparison.Ordinal)) name = name["model.".Length..];
        if (name.Length <= width) return name;
        int tail = (width - 1) / 2;
        return name[..(width - 1 - tail)] + Ellipsis + name[^tail..];
    }

    /// <summary>A path in at most <paramref name="width"/> characters, keeping its end (the file or folder name).</summary>
    public static string PathTail(string path, int width) =>
        path.Length <= width ? path : Ellipsis + path[^(width - 1)..];
}
