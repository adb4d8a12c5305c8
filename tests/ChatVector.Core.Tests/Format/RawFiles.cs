using System.Buffers.Binary;
using System.Text;

namespace ChatVector.Core.Tests.Format;

/// <summary>safetensors bytes built by hand (not by the project's writer) in a temporary folder.</summary>
public sealed class RawFiles : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("chatvector-raw-").FullName;

    /// <summary>8-byte length, the header text as given (no padding), then the data.</summary>
    public string Write(string name, string header, int dataBytes = 0, ulong? claimedLength = null) =>
        WriteBytes(name, Build(Encoding.UTF8.GetBytes(header), new byte[dataBytes], claimedLength));

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static byte[] Build(byte[] header, byte[] data, ulong? claimedLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }
}
