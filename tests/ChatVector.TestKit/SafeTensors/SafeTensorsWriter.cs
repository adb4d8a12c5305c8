using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace ChatVector.TestKit;

/// <summary>
/// Writes a safetensors file by hand (its own header JSON, no project code): the 8-byte header length, the header
/// (<c>__metadata__</c> first when given, then the tensors in the given order, offsets contiguous), padded with
/// spaces to a multiple of 8, then the data.
/// </summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, string DType, long[] Shape, byte[] Data)> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null) header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        long offset = 0;
        foreach (var (name, dtype, shape, data) in entries)
        {
            header[name] = new JsonObject { ["dtype"] = dtype, ["shape"] = new JsonArray(shape.Select(d => (JsonNode?)d).ToArray()), ["data_offsets"] = new JsonArray(offset, offset + data.Length) };
            offset += data.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = json.Length + (8 - (8 + json.Length) % 8) % 8;
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(json);
        for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
        foreach (var entry in entries) file.Write(entry.Data);
    }

    /// <summary>A file of one tensor, its data bytes as given (for PowerShell, which cannot write a list of tuples easily).</summary>
    public static void WriteOne(string path, string name, string dtype, long[] shape, byte[] data, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, [(name, dtype, shape, data)], metadata);

    /// <summary>A file of one F32 tensor of shape [values.Length], values as given (NaN and Inf too), no metadata.</summary>
    public static void WriteF32(string path, string name, float[] values) =>
        WriteOne(path, name, "F32", [values.Length], TensorBytes.F32(values));
}
