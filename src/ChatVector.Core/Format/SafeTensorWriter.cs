using System.Buffers.Binary;
using System.Text;
using ChatVector.Core.IO;
using Newtonsoft.Json;

namespace ChatVector.Core.Format;

/// <summary>A file's header bytes and the order and offsets its tensors' data must be written in.</summary>
public sealed record PreparedFile(byte[] HeaderWithLength, IReadOnlyList<TensorInfo> Layout, long TotalLength);

/// <summary>Writes one safetensors file, data streamed by the caller one tensor at a time.</summary>
public static class SafeTensorWriter
{
    /// <summary>
    /// Orders tensors by dtype alignment (largest first) then name, assigns contiguous offsets,
    /// and builds the 8-byte length plus JSON header padded with spaces to a multiple of 8.
    /// <c>__metadata__</c> always holds <c>format: pt</c> (transformers refuses files without it) plus <paramref name="metadata"/>.
    /// </summary>
    public static PreparedFile Prepare(IEnumerable<TensorDeclaration> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var list = tensors.ToList();
        var duplicates = list.GroupBy(t => t.Name).Where(g => g.Count() > 1 || g.Key == "__metadata__").Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            throw new ArgumentException($"Tensor names must be unique and not __metadata__: {string.Join(", ", duplicates.Take(5))}", nameof(tensors));
        var ordered = list.OrderByDescending(t => t.DType.Alignment()).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        var layout = new List<TensorInfo>(ordered.Count);
        long offset = 0;
        foreach (var tensor in ordered)
        {
            long end = checked(offset + tensor.ByteLength);
            layout.Add(new TensorInfo(tensor.Name, tensor.DType, tensor.Shape, offset, end));
            offset = end;
        }
        var header = HeaderJson(layout, metadata);
        int padding = (8 - (8 + header.Length) % 8) % 8;
        var bytes = new byte[8 + header.Length + padding];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(header.Length + padding));
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length).Fill((byte)' ');
        return new PreparedFile(bytes, layout, bytes.Length + offset);
    }

    private static byte[] HeaderJson(IReadOnlyList<TensorInfo> layout, IReadOnlyDictionary<string, string>? metadata)
    {
        var text = new StringWriter();
        using (var json = new JsonTextWriter(text) { Formatting = Formatting.None })
        {
            json.WriteStartObject();
            json.WritePropertyName("__metadata__");
            json.WriteStartObject();
            foreach (var (key, value) in (metadata ?? new Dictionary<string, string>()).Where(kv => kv.Key != "format").OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                json.WritePropertyName(key);
                json.WriteValue(value);
            }
            json.WritePropertyName("format");
            json.WriteValue("pt");
            json.WriteEndObject();
            foreach (var tensor in layout)
            {
                json.WritePropertyName(tensor.Name);
                json.WriteStartObject();
                json.WritePropertyName("dtype");
                json.WriteValue(tensor.DType.ToString());
                json.WritePropertyName("shape");
                json.WriteStartArray();
                foreach (var dim in tensor.Shape) json.WriteValue(dim);
                json.WriteEndArray();
                json.WritePropertyName("data_offsets");
                json.WriteStartArray();
                json.WriteValue(tensor.Begin);
                json.WriteValue(tensor.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>
    /// Writes <paramref name="path"/> through a temporary file beside it that is renamed at the end
    /// (deleted on any failure or cancellation). <paramref name="writeData"/> is called once per tensor
    /// in layout order and must write exactly <see cref="TensorInfo.ByteLength"/> bytes.
    /// An existing file is an error unless <paramref name="overwrite"/>.
    /// </summary>
    public static void Write(string path, PreparedFile prepared, Action<TensorInfo, Stream> writeData, bool overwrite, CancellationToken cancellation,
        Func<byte[]>? finalHeader = null)
    {
        path = Path.GetFullPath(path);
        if (!overwrite && File.Exists(path)) throw new IOException($"{path} already exists.");
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var output = UncachedWriteStream.Over(file))
            {
                output.Write(prepared.HeaderWithLength);
                foreach (var tensor in prepared.Layout)
                {
                    cancellation.ThrowIfCancellationRequested();
                    long before = output.Position;
                    writeData(tensor, output);
                    if (output.Position - before != tensor.ByteLength)
                        throw new InvalidOperationException($"{path}: tensor '{tensor.Name}' got {output.Position - before} bytes, {tensor.ByteLength} expected.");
                }
                output.Flush();
                if (finalHeader?.Invoke() is { } header) RewriteHeader(file, header, prepared, path);
                file.Flush(flushToDisk: true);
            }
            cancellation.ThrowIfCancellationRequested();
            // Antivirus and the search indexer open a new file briefly on Windows: the rename waits them out.
            SharingRetry.Run(() => File.Move(temp, path, overwrite));
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Puts <paramref name="header"/> (what is known only once the data is written, e.g. checksums) over the
    /// first bytes, through the handle that wrote the file; it must be as long as the header written first.
    /// </summary>
    private static void RewriteHeader(FileStream file, byte[] header, PreparedFile prepared, string path)
    {
        if (header.Length != prepared.HeaderWithLength.Length)
            throw new InvalidOperationException($"{path}: the final header is {header.Length} bytes, the written one {prepared.HeaderWithLength.Length}.");
        file.Position = 0;
        file.Write(header);
    }
}
