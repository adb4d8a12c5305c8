using System.IO.Hashing;
using ChatVector.Core.Format;
using ChatVector.Core.Integrity;
using Xunit;

namespace ChatVector.Core.Tests.Integrity;

/// <summary>Per-tensor digests in a file's metadata: the placeholder, the in-place patch, reading them back, recomputing.
/// Expected digests are computed with XxHash128.Hash over the whole tensor, not the chunked code under test.</summary>
public sealed class ContentChecksumsTests : TempDirTest
{
    private static readonly RawTensor[] Tensors = [new("a", "F32", [5]), new("b", "U8", [3])];

    private static string Digest(ReadOnlySpan<byte> bytes) => Convert.ToHexString(XxHash128.Hash(bytes)).ToLowerInvariant();

    /// <summary>A file whose metadata holds <paramref name="entry"/> under the checksum key (when not null).</summary>
    private SafeTensorFile FileWith(string? entry, string name = "c.safetensors")
    {
        var metadata = entry is null ? null : new Dictionary<string, string> { [ContentChecksums.MetadataKey] = entry };
        return SafeTensorFile.Open(RawSafeTensorFile.WriteTo(Dir, name, RawSafeTensorFile.Valid(Tensors, metadata)));
    }

    private static byte[] BytesOf(SafeTensorFile file, TensorInfo t)
    {
        var bytes = new byte[t.ByteLength];
        file.ReadTensorBytes(t, 0, bytes);
        return bytes;
    }

    [Fact]
    public void Compute_hashes_a_tensor_in_chunks_as_one_hash_of_its_bytes()
    {
        var file = FileWith(null);
        foreach (var t in file.Tensors)
            Assert.Equal(Digest(BytesOf(file, t)), ContentChecksums.Compute(file, t, new byte[3]));
    }

    [Fact]
    public void Patch_replaces_the_placeholder_in_place_and_Recorded_reads_the_digests_back()
    {
        var path = FileWith(ContentChecksums.Placeholder(2)).Path;
        var length = new FileInfo(path).Length;
        string[] digests = [new string('a', 32), new string('b', 32)];

        ContentChecksums.Patch(path, digests);

        Assert.Equal(length, new FileInfo(path).Length);
        Assert.Equal(digests, ContentChecksums.Recorded(SafeTensorFile.Open(path)));
    }

    [Fact]
    public void Patch_without_a_placeholder_names_the_file()
    {
        var path = FileWith(null).Path;
        Assert.Contains(path, Assert.Throws<InvalidOperationException>(() => ContentChecksums.Patch(path, [new string('a', 32), new string('b', 32)])).Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0123456789abcdef0123456789abcdef")] // one digest for two tensors
    [InlineData("0123456789abcdef,0123456789abcdef")] // digests too short
    public void Recorded_is_null_when_absent_or_malformed(string? entry) => Assert.Null(ContentChecksums.Recorded(FileWith(entry)));

    [Fact]
    public void Placeholder_has_the_length_of_the_digests_it_stands_for()
    {
        Assert.Equal(32 * 3 + 2, ContentChecksums.Placeholder(3).Length);
        Assert.Equal("", ContentChecksums.Placeholder(0));
    }

    [Fact]
    public void Compute_stops_when_cancelled()
    {
        var file = FileWith(null);
        Assert.ThrowsAny<OperationCanceledException>(() => ContentChecksums.Compute(file, file.Tensors[0], new byte[4], new CancellationToken(canceled: true)));
    }
}
