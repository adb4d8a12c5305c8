using System.IO.Hashing;
using System.Text;
using ChatVector.Core.Format;

namespace ChatVector.Core.Integrity;

/// <summary>
/// Per-tensor XxHash128 checksums recorded in a file's own metadata at export time, so a later
/// <c>Test-SafeTensor -Data</c> can tell a file whose bytes changed. The header is written before the
/// data, so the entry is first written as zeros of its final length and patched once the data is out.
/// </summary>
public static class ContentChecksums
{
    /// <summary>Comma-separated hex digests, one per tensor in data order.</summary>
    public const string MetadataKey = "chatvector.xxh128";
    private const int HexLength = 32;

    public static string Placeholder(int tensorCount) =>
        string.Join(",", Enumerable.Repeat(new string('0', HexLength), tensorCount));

    public static string Hex(XxHash128 hash) => Convert.ToHexString(hash.GetCurrentHash()).ToLowerInvariant();

    /// <summary>Overwrites the placeholder in <paramref name="path"/>'s header with the real digests (same length).</summary>
    public static void Patch(string path, IReadOnlyList<string> digestsInDataOrder)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var lengthBytes = new byte[8];
        file.ReadExactly(lengthBytes);
        var header = new byte[8 + BitConverter.ToInt64(lengthBytes)];
        lengthBytes.CopyTo(header, 0);
        file.ReadExactly(header.AsSpan(8));
        file.Position = 0;
        file.Write(Patched(header, digestsInDataOrder, path));
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// <paramref name="headerWithLength"/> (the 8-byte length and the JSON, as written first) with the placeholder
    /// replaced by the digests: the same length, so the writer can put it over the first bytes through the handle
    /// that wrote the file (reopening the file races antivirus scanners on Windows).
    /// </summary>
    public static byte[] Patched(byte[] headerWithLength, IReadOnlyList<string> digestsInDataOrder, string path)
    {
        var placeholder = Encoding.UTF8.GetBytes($"\"{MetadataKey}\":\"{Placeholder(digestsInDataOrder.Count)}\"");
        int at = headerWithLength.AsSpan(8).IndexOf(placeholder);
        if (at < 0) throw new InvalidOperationException($"{path}: no checksum placeholder in the header");
        var actual = Encoding.UTF8.GetBytes($"\"{MetadataKey}\":\"{string.Join(",", digestsInDataOrder)}\"");
        var patched = (byte[])headerWithLength.Clone();
        actual.CopyTo(patched, 8 + at);
        return patched;
    }

    /// <summary>The recorded digests of a file in data order, or null when it has none (or a malformed entry).</summary>
    public static IReadOnlyList<string>? Recorded(SafeTensorFile file)
    {
        if (!file.Metadata.TryGetValue(MetadataKey, out var value)) return null;
        var digests = value.Split(',');
        return digests.Length == file.Tensors.Count && digests.All(d => d.Length == HexLength) ? digests : null;
    }

    /// <summary>Hashes one tensor's bytes as they lie in the file, a chunk at a time.</summary>
    public static string Compute(SafeTensorFile file, TensorInfo tensor, Span<byte> buffer, CancellationToken cancellation = default)
    {
        var hash = new XxHash128();
        for (long offset = 0; offset < tensor.ByteLength; offset += buffer.Length)
        {
            cancellation.ThrowIfCancellationRequested();
            var chunk = buffer[..(int)Math.Min(buffer.Length, tensor.ByteLength - offset)];
            file.ReadTensorBytes(tensor, offset, chunk);
            hash.Append(chunk);
        }
        return Hex(hash);
    }
}
