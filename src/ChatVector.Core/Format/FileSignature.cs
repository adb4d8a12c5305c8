using System.Text;

namespace ChatVector.Core.Format;

/// <summary>
/// Names what a file that cannot be safetensors most likely is, from its first bytes, so the error says
/// "this is a pickle file" instead of quoting a nonsense header length. Consulted only after the header
/// length has already been refused, so it can never turn a valid file away.
/// </summary>
internal static class FileSignature
{
    /// <summary>How many leading bytes <see cref="Describe"/> looks at.</summary>
    public const int Length = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private const string ConvertAdvice =
        "; loading pickle can run arbitrary code, so ChatVector reads only safetensors: convert it once, in a trusted environment, " +
        "with save_pretrained(out, safe_serialization=True)";

    /// <summary>"it looks like a pickle ..." with what to do, or null when the bytes say nothing.</summary>
    public static string? Describe(ReadOnlySpan<byte> start)
    {
        if (start is [(byte)'P', (byte)'K', 3, 4, ..])
            return "it looks like a zip archive, which is what torch.save writes" + ConvertAdvice;
        // PROTO opcode with protocol 2-5, then any opcode: 0 is none, while a safetensors length would have it.
        if (start is [0x80, >= 2 and <= 5, not 0, ..])
            return "it looks like a Python pickle, as PyTorch .bin/.pt checkpoints are" + ConvertAdvice;
        if (IsText(start)) return "it looks like a text file";
        return null;
    }

    /// <summary>UTF-8 with no control characters but whitespace; a multi-byte character cut at the end is allowed.</summary>
    private static bool IsText(ReadOnlySpan<byte> start)
    {
        for (int cut = 0; cut <= 3 && cut < start.Length; cut++)
        {
            string text;
            try { text = StrictUtf8.GetString(start[..^cut]); }
            catch (DecoderFallbackException) { continue; }
            return text.Length > 0 && text.All(c => !char.IsControl(c) || c is '\t' or '\n' or '\r' or '\f');
        }
        return false;
    }
}
