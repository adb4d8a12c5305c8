using System.IO.Hashing;
using ChatVector.Core.Integrity;
using Xunit;

namespace ChatVector.Core.Tests.Integrity;

public sealed class HashingWriteStreamTests
{
    [Fact]
    public void Bytes_pass_through_unchanged_and_the_hash_is_of_all_of_them_however_they_were_split()
    {
        var bytes = RawSafeTensorFile.Pattern(1000);
        using var inner = new MemoryStream();
        using var stream = new HashingWriteStream(inner);
        stream.Write(bytes, 0, 10);
        stream.Write(bytes.AsSpan(10, 500));
        stream.Write(bytes, 510, 0);
        stream.Write(bytes, 510, 490);
        stream.Flush();

        Assert.Equal(bytes, inner.ToArray());
        Assert.Equal(XxHash128.Hash(bytes), stream.Hash.GetCurrentHash());
    }

    [Fact]
    public void It_is_write_only()
    {
        using var stream = new HashingWriteStream(new MemoryStream());
        Assert.True(stream.CanWrite);
        Assert.False(stream.CanRead);
        Assert.False(stream.CanSeek);
        Assert.Throws<NotSupportedException>(() => stream.Read(new byte[1], 0, 1));
        Assert.Throws<NotSupportedException>(() => stream.Position);
        Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
    }
}
