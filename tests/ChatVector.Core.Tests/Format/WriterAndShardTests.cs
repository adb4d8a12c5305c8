using System.Buffers.Binary;
using ChatVector.Core.Format;
using ChatVector.Tests.Shared;
using Xunit;

namespace ChatVector.Core.Tests.Format;

public class WriterAndShardTests
{
    private static readonly TensorLayout[] Mixed =
    [
        new("b.small", DType.U8, [3]),
        new("a.half", DType.BF16, [2, 2]),
        new("c.wide", DType.F64, [2]),
        new("a.wide", DType.F64, []),
        new("empty", DType.F32, [0]),
    ];

    [Fact]
    public void Prepare_orders_by_alignment_then_name_and_pads_the_header_to_8()
    {
        var prepared = SafeTensorWriter.Prepare(Mixed, new Dictionary<string, string> { ["z"] = "1", ["format"] = "tf" });
        Assert.Equal(["a.wide", "c.wide", "empty", "a.half", "b.small"], prepared.Layout.Select(t => t.Name));
        Assert.Equal(0, prepared.HeaderWithLength.Length % 8);
        Assert.Equal((ulong)prepared.HeaderWithLength.Length - 8, BinaryPrimitives.ReadUInt64LittleEndian(prepared.HeaderWithLength));
    }

    [Fact]
    public void Written_files_read_back_by_an_independent_reader()
    {
        using var files = new RawFiles();
        var path = Path.Combine(files.Root, "w.safetensors");
        var prepared = SafeTensorWriter.Prepare(Mixed, new Dictionary<string, string> { ["origin"] = "test" });
        SafeTensorWriter.Write(path, prepared, (info, stream) => stream.Write(Enumerable.Range(0, (int)info.ByteLength).Select(i => (byte)(i + info.Name.Length)).ToArray()), false, default);

        var independent = new IndependentSafeTensorReader(path);
        Assert.Equal("pt", independent.Metadata["format"]); // the caller cannot drop what transformers needs
        Assert.Equal("test", independent.Metadata["origin"]);
        foreach (var t in prepared.Layout)
            Assert.Equal(Enumerable.Range(0, (int)t.ByteLength).Select(i => (byte)(i + t.Name.Length)), independent.Bytes(t.Name).ToArray());
        Assert.Equal(5, SafeTensorFile.Open(path).Tensors.Count);
    }

    [Fact]
    public void A_failing_or_short_writer_leaves_neither_target_nor_temp_file()
    {
        using var files = new RawFiles();
        var path = Path.Combine(files.Root, "w.safetensors");
        var prepared = SafeTensorWriter.Prepare(Mixed, null);
        Assert.Throws<InvalidOperationException>(() => SafeTensorWriter.Write(path, prepared, (_, s) => s.WriteByte(1), false, default));
        Assert.Throws<IOException>(() => SafeTensorWriter.Write(path, prepared, (_, _) => throw new IOException("disk"), false, default));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => SafeTensorWriter.Write(path, prepared, (i, s) => s.Write(new byte[i.ByteLength]), false, cancelled.Token));
        Assert.Empty(Directory.GetFileSystemEntries(files.Root));
    }

    [Fact]
    public void An_existing_file_is_not_overwritten_without_overwrite()
    {
        using var files = new RawFiles();
        var path = files.WriteBytes("keep.safetensors", [9, 9]);
        Assert.Throws<IOException>(() => SafeTensorWriter.Write(path, SafeTensorWriter.Prepare([], null), (_, _) => { }, false, default));
        Assert.Equal(new byte[] { 9, 9 }, File.ReadAllBytes(path));
    }

    private static TensorLayout Bytes(string name, long bytes) => new(name, DType.U8, [bytes]);

    [Fact]
    public void Shards_split_greedily_and_a_tensor_over_the_budget_gets_a_shard_alone()
    {
        var plan = ShardPlanner.Plan([Bytes("a", 40), Bytes("b", 60), Bytes("c", 1), Bytes("big", 500), Bytes("d", 100)], 100);
        Assert.Equal([["a", "b"], ["c"], ["big"], ["d"]], plan.Select(s => s.Tensors.Select(t => t.Name).ToArray()).ToArray());
        Assert.Equal(["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"], plan.Select(s => s.FileName));
    }

    [Fact]
    public void One_shard_is_model_safetensors_even_when_empty()
    {
        Assert.Equal("model.safetensors", Assert.Single(ShardPlanner.Plan([], 10)).FileName);
        Assert.Equal("model.safetensors", Assert.Single(ShardPlanner.Plan([Bytes("a", 10)], 10)).FileName);
    }

    [Theory]
    [InlineData("5GB", 5_000_000_000)]
    [InlineData("500MB", 500_000_000)]
    [InlineData("2GiB", 2_147_483_648)]
    [InlineData("1.5GB", 1_500_000_000)]
    [InlineData(" 10 kb ", 10_000)]
    [InlineData("123", 123)]
    public void Sizes_parse_like_transformers(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("-1GB")]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("5XB")]
    public void Bad_sizes_are_refused_naming_the_text(string text) =>
        Assert.Contains($"'{text}'", Assert.Throws<FormatException>(() => ByteSize.Parse(text)).Message);
}
