using System.Buffers.Binary;
using System.Text.Json;

namespace ChatVector.TestKit.Independent;

/// <summary>
/// A deliberately separate, minimal safetensors reader (System.Text.Json, no project code, nothing else of the
/// kit but <see cref="Bf16"/>) so tests can read what the module wrote by another code path and compare values
/// independently. It is the expectation: keep it apart from the kit's writers and from src/.
/// </summary>
public sealed class IndependentSafeTensorReader
{
    public sealed record Entry(string DType, long[] Shape, long Begin, long End);

    public Dictionary<string, Entry> Tensors { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
    public long HeaderLength { get; }
    private readonly byte[] _data;

    public IndependentSafeTensorReader(string path)
    {
        var bytes = File.ReadAllBytes(path);
        HeaderLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var json = JsonDocument.Parse(bytes.AsMemory(8, (int)HeaderLength));
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                foreach (var m in property.Value.EnumerateObject()) Metadata[m.Name] = m.Value.GetString()!;
                continue;
            }
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Tensors[property.Name] = new Entry(
                property.Value.GetProperty("dtype").GetString()!,
                property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                offsets[0], offsets[1]);
        }
        _data = bytes[(int)(8 + HeaderLength)..];
    }

    public ReadOnlySpan<byte> Bytes(string name)
    {
        var e = Tensors[name];
        return _data.AsSpan((int)e.Begin, (int)(e.End - e.Begin));
    }

    /// <summary>Values widened to float64 (BF16, F16, F32, F64).</summary>
    public double[] Values(string name)
    {
        var e = Tensors[name];
        var raw = Bytes(name);
        int size = e.DType switch { "BF16" or "F16" => 2, "F32" => 4, "F64" => 8, _ => throw new NotSupportedException(e.DType) };
        var values = new double[raw.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            var element = raw.Slice(i * size, size);
            values[i] = e.DType switch
            {
                "BF16" => Bf16.ToFloat(element),
                "F16" => (double)BinaryPrimitives.ReadHalfLittleEndian(element),
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(element),
                _ => BinaryPrimitives.ReadDoubleLittleEndian(element),
            };
        }
        return values;
    }

    /// <summary>All tensors of a model folder (every *.safetensors file) by name.</summary>
    public static Dictionary<string, (IndependentSafeTensorReader File, Entry Entry)> ReadFolder(string folder)
    {
        var all = new Dictionary<string, (IndependentSafeTensorReader, Entry)>(StringComparer.Ordinal);
        foreach (var path in Directory.GetFiles(folder, "*.safetensors"))
        {
            var reader = new IndependentSafeTensorReader(path);
            foreach (var (name, entry) in reader.Tensors) all.Add(name, (reader, entry));
        }
        return all;
    }

    /// <summary>Every tensor's raw bytes, of a file or a folder's *.safetensors files, by name (for PowerShell,
    /// which cannot hold the spans <see cref="Bytes"/> returns).</summary>
    public static Dictionary<string, byte[]> ReadBytes(string fileOrFolder)
    {
        var files = Directory.Exists(fileOrFolder) ? Directory.GetFiles(fileOrFolder, "*.safetensors") : [fileOrFolder];
        var bytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in files)
        {
            var reader = new IndependentSafeTensorReader(path);
            foreach (var name in reader.Tensors.Keys) bytes.Add(name, reader.Bytes(name).ToArray());
        }
        return bytes;
    }

    /// <summary>Every tensor of a file or a folder's *.safetensors files, widened to float64, by name.</summary>
    public static Dictionary<string, double[]> ReadValues(string fileOrFolder)
    {
        var files = Directory.Exists(fileOrFolder) ? Directory.GetFiles(fileOrFolder, "*.safetensors") : [fileOrFolder];
        var values = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var path in files)
        {
            var reader = new IndependentSafeTensorReader(path);
            foreach (var name in reader.Tensors.Keys) values.Add(name, reader.Values(name));
        }
        return values;
    }
}
