using System.Text.Encodings.Web;
using System.Text.Json;

namespace ToyChatVector;

internal static class Json
{
    /// <summary>Indented, with '&lt;' and '&gt;' left readable (the special tokens are full of them).</summary>
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
