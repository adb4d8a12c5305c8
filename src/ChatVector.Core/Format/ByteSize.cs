using System.Globalization;
using System.Text.RegularExpressions;

namespace ChatVector.Core.Format;

/// <summary>Byte-size strings as transformers takes them: decimal units (5GB = 5e9), binary with "i" (2GiB).</summary>
public static partial class ByteSize
{
    public const long DefaultShardSize = 5_000_000_000;

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizeText();

    /// <summary>"5GB", "500MB", "2GiB", "1.5GB", "123" (bytes). Throws <see cref="FormatException"/> with the text.</summary>
    public static long Parse(string text)
    {
        var match = SizeText().Match(text ?? "");
        if (!match.Success) throw new FormatException($"'{text}' is not a size; write it like 5GB, 500MB, 2GiB or a number of bytes.");
        if (!decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            throw new FormatException($"'{text}' is too large a size.");
        var unit = match.Groups[2].Value.ToUpperInvariant().TrimEnd('B');
        decimal multiplier = unit switch
        {
            "" => 1,
            "K" => 1e3m, "M" => 1e6m, "G" => 1e9m, "T" => 1e12m,
            "KI" => 1L << 10, "MI" => 1L << 20, "GI" => 1L << 30, "TI" => 1L << 40,
            _ => throw new FormatException($"'{text}': unknown unit"),
        };
        decimal bytes;
        try { bytes = number * multiplier; }
        catch (OverflowException) { throw new FormatException($"'{text}' is too large a size."); }
        if (bytes < 1 || bytes > long.MaxValue) throw new FormatException($"'{text}' must be at least one byte and fit in 64 bits.");
        return (long)bytes;
    }

    public static string Format(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1000 && unit < units.Length - 1) { value /= 1000; unit++; }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:F2} {units[unit]}");
    }
}
