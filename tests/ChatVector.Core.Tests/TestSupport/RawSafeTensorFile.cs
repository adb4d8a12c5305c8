using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ChatVector.Core.Tests;

/// <summary>A fresh directory under the system temp folder, deleted (recursively) on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cv-fmt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Every file name in the directory, hidden ones (the writer's temp files) included.</summary>
    public string[] FileNames() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A tensor to lay out by hand: name, dtype string as written in the header, shape.</summary>
public sealed record RawTensor(string Name, string DType, long[] Shape)
{
    public static int BitsOf(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" or "F8_E4M3FNUZ" or "F8_E5M2FNUZ" => 8,
        "I16" or "U16" or "F16" or "BF16" => 16,
        "I32" or "U32" or "F32" => 32,
        "I64" or "U64" or "F64" or "C64" => 64,
        "F4" => 4,
        "F6_E2M3" or "F6_E3M2" => 6,
        _ => throw new ArgumentException($"unknown dtype {dtype}"),
    };

    public long ByteLength => Shape.Aggregate(1L, (n, d) => n * d) * BitsOf(DType) / 8;
}

/// <summary>
/// Builds safetensors bytes by hand, independent of the project's writer: the 8-byte little-endian
/// header length, the header text exactly as given, then the data bytes.
/// </summary>
public static class RawSafeTensorFile
{
    public static byte[] Build(string headerJson, byte[] data) => Build(Encoding.UTF8.GetBytes(headerJson), data);

    public static byte[] Build(byte[] headerBytes, byte[] data) => Build((ulong)headerBytes.Length, headerBytes, data);

    /// <summary>A length prefix that need not match the header (for the length rules).</summary>
    public static byte[] Build(ulong declaredHeaderLength, byte[] headerBytes, byte[] data)
    {
        var bytes = new byte[8 + headerBytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength);
        headerBytes.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + headerBytes.Length);
        return bytes;
    }

    /// <summary>
    /// A correct header for <paramref name="tensors"/> laid out contiguously in the given order,
    /// with optional metadata; returns the header JSON and the data length it implies.
    /// </summary>
    public static (string Json, long DataLength) Header(IEnumerable<RawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sb = new StringBuilder("{");
        var first = true;
        if (metadata is not null)
        {
            sb.Append("\"__metadata__\":{");
            sb.Append(string.Join(",", metadata.Select(kv => $"{Quote(kv.Key)}:{Quote(kv.Value)}")));
            sb.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var t in tensors)
        {
            if (!first) sb.Append(',');
            first = false;
            long end = offset + t.ByteLength;
            sb.Append(CultureInfo.InvariantCulture,
                $"{Quote(t.Name)}:{{\"dtype\":{Quote(t.DType)},\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{offset},{end}]}}");
            offset = end;
        }
        sb.Append('}');
        return (sb.ToString(), offset);
    }

    /// <summary>A valid file for <paramref name="tensors"/>; data bytes are a recognisable pattern (index * 7 + 1).</summary>
    public static byte[] Valid(IEnumerable<RawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var (json, dataLength) = Header(tensors, metadata);
        return Build(json, Pattern(dataLength));
    }

    public static byte[] Pattern(long length)
    {
        var data = new byte[length];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7 + 1);
        return data;
    }

    /// <summary>Writes the bytes to <paramref name="dir"/>/<paramref name="name"/> and returns the full path.</summary>
    public static string WriteTo(TempDir dir, string name, byte[] bytes)
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static string WriteHeader(TempDir dir, string name, string headerJson, byte[]? data = null) =>
        WriteTo(dir, name, Build(headerJson, data ?? []));

    private static string Quote(string s) => Newtonsoft.Json.JsonConvert.ToString(s);
}
