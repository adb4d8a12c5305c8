using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Format;

/// <summary>
/// Where a JSON file breaks, in the user's terms (line and position), and reading a JSON file that must hold
/// an object. The JSON libraries' own messages name their types and internals (JObject, JsonReader, StartArray),
/// so no message shown to a user quotes them; the exception stays as the inner one.
/// </summary>
internal static class JsonProblems
{
    /// <summary>" at line L, position P" for a Newtonsoft reader failure that knows its place (1-based), else "".</summary>
    public static string Where(JsonException e) =>
        e is JsonReaderException { LineNumber: > 0 } r ? $" at line {r.LineNumber}, position {r.LinePosition}" : "";

    /// <summary>" at line L, byte B" for a System.Text.Json failure (which counts from 0), else "".</summary>
    public static string Where(System.Text.Json.JsonException e) =>
        e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";

    /// <summary>
    /// The JSON object in <paramref name="path"/>. A file that is not JSON, or JSON that is not an object, is
    /// reported through <paramref name="problem"/> with a detail such as "is not valid JSON (at line 2, position 0)".
    /// </summary>
    public static JObject ReadObjectFile(string path, Func<string, Exception?, Exception> problem)
    {
        JToken token;
        try { token = JToken.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw problem($"is not valid JSON{Where(e)}; fix or replace the file", e); }
        return token as JObject ?? throw problem($"holds a JSON {Describe(token.Type)} where an object ({{ ... }}) belongs; fix or replace the file", null);
    }

    /// <summary>A JSON value's kind as the JSON specification names it (not the library's token names).</summary>
    public static string Describe(JTokenType type) => type switch
    {
        JTokenType.Array => "array",
        JTokenType.String => "string",
        JTokenType.Integer or JTokenType.Float => "number",
        JTokenType.Boolean => "true/false value",
        JTokenType.Null or JTokenType.Undefined => "null",
        JTokenType.Object => "object",
        _ => "value",
    };
}
