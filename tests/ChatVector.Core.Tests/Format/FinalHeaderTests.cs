using ChatVector.Core.Format;
using ChatVector.TestKit.Independent;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>
/// A header known only after the data (checksums) is put in place through the handle that wrote the file,
/// direct (O_DIRECT) writes included: no second open for a scanner on Windows to collide with.
/// </summary>
public sealed class FinalHeaderTests : TempDirTest
{
    // 5 MB and some: more than one 4 MB direct-write block, and a last block cut back to length.
    private static readonly PreparedFile Prepared =
        SafeTensorWriter.Prepare([new("big", DType.U8, [5_000_003])], new Dictionary<string, string> { ["k"] = "0000" });

    private static void Data(TensorInfo t, Stream s) => s.Write(Enumerable.Range(0, (int)t.ByteLength).Select(i => (byte)(i * 7 + (i >> 12))).ToArray());

    private static byte[] WithValue(string value)
    {
        var header = (byte[])Prepared.HeaderWithLength.Clone();
        var at = header.AsSpan().IndexOf("\"0000\""u8);
        System.Text.Encoding.ASCII.GetBytes($"\"{value}\"").CopyTo(header, at);
        return header;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_final_header_replaces_the_first_and_the_data_stays(bool cachedWrites)
    {
        var path = Dir.File("m.safetensors");
        Environment.SetEnvironmentVariable("CHATVECTOR_CACHED_WRITES", cachedWrites ? "1" : null);
        try { SafeTensorWriter.Write(path, Prepared, Data, false, CancellationToken.None, finalHeader: () => WithValue("abcd")); }
        finally { Environment.SetEnvironmentVariable("CHATVECTOR_CACHED_WRITES", null); }

        var reader = new IndependentSafeTensorReader(path);
        Assert.Equal("abcd", reader.Metadata["k"]);
        using var expected = new MemoryStream();
        Data(Prepared.Layout[0], expected);
        Assert.Equal(expected.ToArray(), reader.Bytes("big").ToArray());
        Assert.Equal(Prepared.TotalLength, new FileInfo(path).Length);
    }

    [Fact]
    public void A_final_header_of_another_length_fails_and_leaves_nothing()
    {
        var path = Dir.File("m.safetensors");
        var e = Assert.Throws<InvalidOperationException>(() =>
            SafeTensorWriter.Write(path, Prepared, Data, false, CancellationToken.None, finalHeader: () => [.. Prepared.HeaderWithLength, 0x20]));
        Assert.Contains(path, e.Message);
        Assert.Empty(Dir.FileNames());
    }
}
