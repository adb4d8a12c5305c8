using System.Text;

namespace ChatVector.Core.Tests.Format;

/// <summary>
/// The short form the rule, writer and folder tests use: a <see cref="TempDir"/> plus
/// <see cref="RawSafeTensorFile"/> (safetensors bytes built by hand, never by the project's writer).
/// </summary>
public sealed class RawFiles : IDisposable
{
    private readonly TempDir _dir = new();

    public string Root => _dir.Path;

    /// <summary>8-byte length (or <paramref name="claimedLength"/>), the header text as given (no padding), then zeroed data.</summary>
    public string Write(string name, string header, int dataBytes = 0, ulong? claimedLength = null) =>
        WriteBytes(name, Build(Encoding.UTF8.GetBytes(header), new byte[dataBytes], claimedLength));

    public string WriteBytes(string name, byte[] bytes) => RawSafeTensorFile.WriteTo(_dir, name, bytes);

    public static byte[] Build(byte[] header, byte[] data, ulong? claimedLength = null) =>
        RawSafeTensorFile.Build(claimedLength ?? (ulong)header.Length, header, data);

    public void Dispose() => _dir.Dispose();
}
