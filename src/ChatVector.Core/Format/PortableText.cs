using System.Globalization;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Format;

/// <summary>
/// The text the module writes into a model (the index, JSON side files, the model card) ends its lines with
/// '\n' on every OS: the same merge gives the same bytes on Windows and Linux, and a checksum or diff of two
/// runs compares the models, not the platforms. Writers take their line ends from here, never from
/// <see cref="Environment.NewLine"/> (which AppendLine, WriteLine and Newtonsoft's indenting use).
/// </summary>
internal static class PortableText
{
    public const char NewLine = '\n';

    /// <summary><paramref name="token"/> indented as Newtonsoft indents it, with '\n' line ends.</summary>
    public static string IndentedJson(JToken token)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = NewLine.ToString() };
        // NaN and ±Infinity as Python's json module writes and reads them (bare NaN, Infinity), not as strings.
        using (var json = new JsonTextWriter(text) { Formatting = Formatting.Indented, FloatFormatHandling = FloatFormatHandling.Symbol }) token.WriteTo(json);
        return text.ToString();
    }

    /// <summary>Appends <paramref name="line"/> and a '\n' (AppendLine would append the platform's newline).</summary>
    public static StringBuilder Line(this StringBuilder text, string line = "") => text.Append(line).Append(NewLine);
}
