using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Format;

/// <summary>
/// The one place that decides whether a safetensors header is valid: parses the JSON and checks every
/// rule of the format, each failure a <see cref="SafeTensorException"/> naming the rule.
/// </summary>
internal static class SafeTensorHeaderParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly JsonLoadSettings LoadSettings = new() { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error };
    private static readonly HashSet<string> EntryKeys = ["dtype", "shape", "data_offsets"];

    public sealed record Header(IReadOnlyList<TensorInfo> TensorsInDataOrder, IReadOnlyDictionary<string, string> Metadata);

    public static Header Parse(ReadOnlySpan<byte> headerBytes, long dataLength, string path)
    {
        var root = ParseJson(headerBytes, path);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<TensorInfo>();
        foreach (var property in root.Properties())
        {
            if (property.Name == "__metadata__") ReadMetadata(property.Value, metadata, path);
            else tensors.Add(ReadEntry(property.Name, property.Value, path));
        }
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        CheckContiguous(tensors, dataLength, path);
        return new Header(tensors, metadata);
    }

    private static JObject ParseJson(ReadOnlySpan<byte> headerBytes, string path)
    {
        string text;
        try { text = StrictUtf8.GetString(headerBytes); }
        catch (DecoderFallbackException e) { throw new SafeTensorException(SafeTensorRule.HeaderNotUtf8, path, "the header is not valid UTF-8", inner: e); }
        RequireStrictJson(headerBytes, path);
        JToken token;
        try
        {
            using var reader = new JsonTextReader(new StringReader(text)) { MaxDepth = 64, DateParseHandling = DateParseHandling.None, FloatParseHandling = FloatParseHandling.Decimal };
            token = JToken.ReadFrom(reader, LoadSettings);
            while (reader.Read())
                if (reader.TokenType != JsonToken.Comment) throw new JsonReaderException("text after the JSON value");
        }
        catch (JsonReaderException e) when (e.Message.Contains("Property with the name", StringComparison.Ordinal))
        {
            throw new SafeTensorException(SafeTensorRule.DuplicateTensorName, path, $"the header has the key '{e.Path}' twice{JsonProblems.Where(e)}", inner: e);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or OverflowException)
        {
            throw new SafeTensorException(SafeTensorRule.HeaderNotJson, path, $"the header is not JSON{(e is JsonException json ? JsonProblems.Where(json) : "")}", inner: e);
        }
        return token as JObject ?? throw new SafeTensorException(SafeTensorRule.HeaderNotObject, path, $"the header is a JSON {JsonProblems.Describe(token.Type)}, not an object");
    }

    /// <summary>
    /// Newtonsoft's reader is lenient (comments, single quotes, unquoted names, trailing commas, hex numbers);
    /// the reference reader and transformers are not, so the header must first pass System.Text.Json's
    /// strict reader. (Newtonsoft still builds the tree: it reports duplicate names, which this one does not.)
    /// </summary>
    private static void RequireStrictJson(ReadOnlySpan<byte> headerBytes, string path)
    {
        var reader = new System.Text.Json.Utf8JsonReader(headerBytes, new System.Text.Json.JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read()) { }
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new SafeTensorException(SafeTensorRule.HeaderNotJson, path, $"the header is not strict JSON{JsonProblems.Where(e)} (comments, single quotes, unquoted names and trailing commas are not allowed)", inner: e);
        }
    }

    private static void ReadMetadata(JToken value, Dictionary<string, string> metadata, string path)
    {
        if (value is not JObject map)
            throw new SafeTensorException(SafeTensorRule.MetadataNotStringMap, path, "__metadata__ is not an object of strings");
        foreach (var entry in map.Properties())
        {
            if (entry.Value.Type != JTokenType.String)
                throw new SafeTensorException(SafeTensorRule.MetadataNotStringMap, path, $"__metadata__ entry '{entry.Name}' is a {entry.Value.Type}, not a string");
            metadata[entry.Name] = (string)entry.Value!;
        }
    }

    private static TensorInfo ReadEntry(string name, JToken value, string path)
    {
        if (value is not JObject entry)
            throw new SafeTensorException(SafeTensorRule.InvalidTensorEntry, path, $"the entry is a JSON {value.Type}, not an object", name);
        var keys = entry.Properties().Select(p => p.Name).ToHashSet();
        if (!keys.SetEquals(EntryKeys))
            throw new SafeTensorException(SafeTensorRule.InvalidTensorEntry, path, $"the entry has keys [{string.Join(", ", keys)}]; exactly dtype, shape, data_offsets are allowed", name);
        if (entry["dtype"] is not JValue { Type: JTokenType.String } dtypeText)
            throw new SafeTensorException(SafeTensorRule.InvalidTensorEntry, path, "dtype is not a string", name);
        if (!DTypes.TryParse((string?)dtypeText, out var dtype))
            throw new SafeTensorException(SafeTensorRule.UnknownDType, path, $"unknown dtype '{dtypeText}'", name);
        var shape = Integers(entry["shape"], "shape", name, path);
        var offsets = Integers(entry["data_offsets"], "data_offsets", name, path);
        if (offsets.Length != 2)
            throw new SafeTensorException(SafeTensorRule.InvalidTensorEntry, path, $"data_offsets has {offsets.Length} numbers, not 2", name);
        if (shape.Any(d => d < 0))
            throw new SafeTensorException(SafeTensorRule.NegativeDimension, path, $"shape [{string.Join(", ", shape)}] has a negative dimension", name);
        if (offsets[0] < 0 || offsets[1] < 0)
            throw new SafeTensorException(SafeTensorRule.OffsetsNotContiguous, path, $"data_offsets [{offsets[0]}, {offsets[1]}] are negative", name);
        long elements;
        try { elements = TensorShape.ElementCount(shape); }
        catch (OverflowException) { throw new SafeTensorException(SafeTensorRule.SizeOverflow, path, $"shape [{string.Join(", ", shape)}] has more elements than fit in 64 bits", name); }
        var bytes = dtype.ByteSize(elements)
            ?? throw new SafeTensorException(SafeTensorRule.SizeOverflow, path, $"{elements} elements of {dtype} do not make a whole number of bytes that fits in 64 bits", name);
        if (offsets[1] - offsets[0] != bytes)
            throw new SafeTensorException(SafeTensorRule.ByteLengthMismatch, path, $"data_offsets [{offsets[0]}, {offsets[1]}] hold {offsets[1] - offsets[0]} bytes, but shape [{string.Join(", ", shape)}] of {dtype} needs {bytes}", name);
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] Integers(JToken? token, string key, string name, string path)
    {
        if (token is not JArray array)
            throw new SafeTensorException(SafeTensorRule.InvalidTensorEntry, path, $"{key} is not an array", name);
        if (array.Count > 1024)
            throw new SafeTensorException(SafeTensorRule.InvalidTensorEntry, path, $"{key} has {array.Count} numbers", name);
        var result = new long[array.Count];
        for (int i = 0; i < array.Count; i++)
        {
            var item = array[i];
            if (item.Type == JTokenType.Integer && item is JValue { Value: long or int } v)
                result[i] = Convert.ToInt64(v.Value);
            else if (item.Type == JTokenType.Integer)
                throw new SafeTensorException(SafeTensorRule.SizeOverflow, path, $"{key} holds {item}, which does not fit in 64 bits", name);
            else
                throw new SafeTensorException(SafeTensorRule.InvalidTensorEntry, path, $"{key} holds {item.ToString(Formatting.None)}, not an integer", name);
        }
        return result;
    }

    /// <summary>Sorted by offset, tensors must tile the data section exactly: no gap, overlap, or leftover byte.</summary>
    private static void CheckContiguous(List<TensorInfo> sorted, long dataLength, string path)
    {
        long expected = 0;
        foreach (var tensor in sorted)
        {
            if (tensor.Begin != expected || tensor.End < tensor.Begin)
                throw new SafeTensorException(SafeTensorRule.OffsetsNotContiguous, path,
                    $"data_offsets [{tensor.Begin}, {tensor.End}] should start at {expected}: tensors must follow one another with no gap or overlap", tensor.Name);
            expected = tensor.End;
        }
        if (expected != dataLength)
            throw new SafeTensorException(SafeTensorRule.DataLengthMismatch, path,
                $"the data section holds {dataLength} bytes but the tensors account for {expected}{(dataLength > expected ? " (trailing bytes)" : " (missing bytes)")}");
    }
}
