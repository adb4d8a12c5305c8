namespace ChatVector.Core.Tests;

/// <summary>What the header and index fuzzers share: hostile JSON fragments, inserting bytes, the time limit.</summary>
internal static class JsonFuzz
{
    public static readonly TimeSpan MaxTimePerCase = TimeSpan.FromSeconds(2);

    /// <summary>Fragments that break JSON structure, strings, numbers, or add an unexpected key.</summary>
    public static readonly string[] Fragments =
        ["{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "null", "true", "1e999", "-", "/*", "//", "'", "new Date(", "\u0000",
         "\"__metadata__\":", "\"dtype\":", ",\"x\":1"];

    public static byte[] Insert(byte[] bytes, byte[] insert, Random random)
    {
        int at = random.Next(bytes.Length + 1);
        return [.. bytes[..at], .. insert, .. bytes[at..]];
    }
}
