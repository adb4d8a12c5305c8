using System.Buffers.Binary;
using System.Text;
using ChatVector.Core.Format;
using ChatVector.TestKit.Independent;
using Newtonsoft.Json.Linq;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>Preparing a file (order, offsets, header padding, metadata) and writing it all or nothing.</summary>
public sealed class SafeTensorWriterTests : TempDirTest
{
    private static readonly TensorDeclaration[] Mixed =
    [
        new("z.u8", DType.U8, [3]),
        new("b.f32", DType.F32, [2, 2]),
        new("a.f16", DType.F16, [5]),
        new("a.f32", DType.F32, []),
        new("c.f64", DType.F64, [1]),
        new("d.bf16", DType.BF16, [0]),
        new("e.f4", DType.F4, [2]),
    ];

    /// <summary>Writes each tensor's bytes as a pattern derived from its name and position.</summary>
    private static void PatternData(TensorInfo t, Stream s)
    {
        var bytes = new byte[t.ByteLength];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(t.Name.Length * 31 + i);
        s.Write(bytes);
    }

    private static string HeaderJson(PreparedFile prepared)
    {
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prepared.HeaderWithLength);
        Assert.Equal((ulong)prepared.HeaderWithLength.Length - 8, n);
        return Encoding.UTF8.GetString(prepared.HeaderWithLength, 8, (int)n);
    }

    [Fact]
    public void Prepare_OrdersByAlignmentDescendingThenName_WithContiguousOffsets()
    {
        var prepared = SafeTensorWriter.Prepare(Mixed, null);
        Assert.Equal(["c.f64", "a.f32", "b.f32", "a.f16", "d.bf16", "e.f4", "z.u8"], prepared.Layout.Select(t => t.Name));
        long expected = 0;
        foreach (var t in prepared.Layout)
        {
            Assert.Equal(expected, t.Begin);
            expected = t.End;
        }
        Assert.Equal(prepared.HeaderWithLength.Length + expected, prepared.TotalLength);
    }

    [Fact]
    public void Prepare_NameOrderIsOrdinal()
    {
        var prepared = SafeTensorWriter.Prepare([new("b", DType.F32, [1]), new("B", DType.F32, [1]), new("a", DType.F32, [1])], null);
        Assert.Equal(["B", "a", "b"], prepared.Layout.Select(t => t.Name));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Prepare_PadsHeaderSoDataStartIsMultipleOfEight_WithSpaces(int nameExtra)
    {
        var prepared = SafeTensorWriter.Prepare([new("t" + new string('x', nameExtra), DType.F32, [1])], null);
        Assert.Equal(0, prepared.HeaderWithLength.Length % 8);
        var json = HeaderJson(prepared);
        Assert.EndsWith("}", json.TrimEnd(' '));
        Assert.True(json.Length - json.TrimEnd(' ').Length < 8);
    }

    [Fact]
    public void Prepare_MetadataHasFormatPtAndCallerKeys_AndCallerCannotOverrideFormat()
    {
        var prepared = SafeTensorWriter.Prepare([new("t", DType.F32, [1])], new Dictionary<string, string> { ["merge"] = "chat-vector", ["format"] = "tf", ["q\"uote"] = "é\n" });
        var root = JObject.Parse(HeaderJson(prepared));
        var meta = (JObject)root["__metadata__"]!;
        Assert.Equal("pt", (string?)meta["format"]);
        Assert.Equal("chat-vector", (string?)meta["merge"]);
        Assert.Equal("é\n", (string?)meta["q\"uote"]);
        Assert.Equal(3, meta.Count);
    }

    [Fact]
    public void Prepare_WithoutMetadata_StillWritesFormatPt()
    {
        var root = JObject.Parse(HeaderJson(SafeTensorWriter.Prepare([], null)));
        Assert.Equal("pt", (string?)root["__metadata__"]!["format"]);
    }

    [Fact]
    public void Write_ThenOpen_RoundTripsHeaderMetadataAndBytes_AlsoForAnIndependentReader()
    {
        var path = Dir.File("model.safetensors");
        var prepared = SafeTensorWriter.Prepare(Mixed, new Dictionary<string, string> { ["k"] = "v" });
        var written = new Dictionary<string, byte[]>();
        SafeTensorWriter.Write(path, prepared, (t, s) =>
        {
            var ms = new MemoryStream();
            PatternData(t, ms);
            written[t.Name] = ms.ToArray();
            s.Write(ms.ToArray());
        }, overwrite: false, CancellationToken.None);

        Assert.Equal(prepared.TotalLength, new FileInfo(path).Length);
        Assert.Equal(prepared.HeaderWithLength, File.ReadAllBytes(path)[..prepared.HeaderWithLength.Length]);
        var file = SafeTensorFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("v", file.Metadata["k"]);
        Assert.Equal(prepared.Layout.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        foreach (var expected in prepared.Layout)
        {
            var t = file.Find(expected.Name)!;
            Assert.Equal(expected.DType, t.DType);
            Assert.Equal(expected.Shape, t.Shape);
            Assert.Equal((expected.Begin, expected.End), (t.Begin, t.End));
            var buffer = new byte[t.ByteLength];
            file.ReadTensorBytes(t, 0, buffer);
            Assert.Equal(written[t.Name], buffer);
        }
        Assert.Equal(["model.safetensors"], Dir.FileNames());

        var independent = new IndependentSafeTensorReader(path); // a reader that shares no code with the writer
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt", ["k"] = "v" }, independent.Metadata);
        foreach (var t in prepared.Layout)
            Assert.Equal(written[t.Name], independent.Bytes(t.Name).ToArray());
    }

    [Fact]
    public void Direct_and_cached_writes_give_the_same_file_across_several_blocks_and_a_partial_last_one()
    {
        // 10 MB and some: two whole 4 MB blocks, then a last block padded to its alignment and cut back to length.
        var prepared = SafeTensorWriter.Prepare([new("big", DType.F32, [2_500_001]), new("odd", DType.BF16, [3])], null);
        // Every byte differs from its neighbours 256 bytes, 64 KB or a block away, so a misplaced block shows.
        static byte[] Data(TensorInfo t) => Enumerable.Range(0, (int)t.ByteLength).Select(i => (byte)(i + (i >> 8) * 7 + (i >> 16) * 13 + t.Name.Length)).ToArray();
        void Write(TensorInfo t, Stream s) => s.Write(Data(t));
        var direct = Dir.File("direct.safetensors");
        var cached = Dir.File("cached.safetensors");
        SafeTensorWriter.Write(direct, prepared, Write, false, CancellationToken.None);
        Environment.SetEnvironmentVariable("CHATVECTOR_CACHED_WRITES", "1");
        try { SafeTensorWriter.Write(cached, prepared, Write, false, CancellationToken.None); }
        finally { Environment.SetEnvironmentVariable("CHATVECTOR_CACHED_WRITES", null); }
        Assert.Equal(prepared.TotalLength, new FileInfo(direct).Length);
        Assert.Equal(File.ReadAllBytes(cached), File.ReadAllBytes(direct));
        var independent = new IndependentSafeTensorReader(direct);
        foreach (var t in prepared.Layout) Assert.Equal(Data(t), independent.Bytes(t.Name).ToArray());
    }

    [Fact]
    public void Write_NonAsciiNames_RoundTrip()
    {
        var path = Dir.File("u.safetensors");
        var prepared = SafeTensorWriter.Prepare([new("模型.权重", DType.F32, [1]), new("a\"b\\c", DType.F32, [1])], null);
        SafeTensorWriter.Write(path, prepared, PatternData, false, CancellationToken.None);
        var file = SafeTensorFile.Open(path);
        Assert.NotNull(file.Find("模型.权重"));
        Assert.NotNull(file.Find("a\"b\\c"));
    }

    [Fact]
    public void Write_CallbackThrows_LeavesNoTempFileAndNoTarget()
    {
        var path = Dir.File("model.safetensors");
        var prepared = SafeTensorWriter.Prepare(Mixed, null);
        int calls = 0;
        var e = Assert.Throws<InvalidTimeZoneException>(() => SafeTensorWriter.Write(path, prepared, (t, s) =>
        {
            if (++calls == 3) throw new InvalidTimeZoneException("boom");
            PatternData(t, s);
        }, false, CancellationToken.None));
        Assert.Equal("boom", e.Message);
        Assert.Empty(Dir.FileNames());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void Write_CallbackWritingWrongByteCount_ThrowsAndLeavesNothing(int delta)
    {
        var path = Dir.File("model.safetensors");
        var prepared = SafeTensorWriter.Prepare([new("t", DType.F32, [4])], null);
        var e = Assert.Throws<InvalidOperationException>(() => SafeTensorWriter.Write(path, prepared, (t, s) => s.Write(new byte[t.ByteLength + delta]), false, CancellationToken.None));
        Assert.Contains("'t'", e.Message);
        Assert.Empty(Dir.FileNames());
    }

    [Fact]
    public void Write_ExistingTargetWithoutOverwrite_ThrowsIOExceptionAndLeavesFileUntouched()
    {
        var path = Dir.File("model.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var prepared = SafeTensorWriter.Prepare([new("t", DType.F32, [1])], null);
        Assert.Throws<IOException>(() => SafeTensorWriter.Write(path, prepared, PatternData, overwrite: false, CancellationToken.None));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], Dir.FileNames());
    }

    [Fact]
    public void Write_ExistingTargetWithOverwrite_ReplacesIt()
    {
        var path = Dir.File("model.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var prepared = SafeTensorWriter.Prepare([new("t", DType.F32, [1])], null);
        SafeTensorWriter.Write(path, prepared, PatternData, overwrite: true, CancellationToken.None);
        Assert.Single(SafeTensorFile.Open(path).Tensors);
        Assert.Equal(["model.safetensors"], Dir.FileNames());
    }

    [Fact]
    public void Write_CancelledBeforeStart_ThrowsAndLeavesNothing()
    {
        var path = Dir.File("model.safetensors");
        var prepared = SafeTensorWriter.Prepare(Mixed, null);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => SafeTensorWriter.Write(path, prepared, PatternData, false, cts.Token));
        Assert.Empty(Dir.FileNames());
    }

    [Fact]
    public void Write_CancelledMidway_ThrowsAndLeavesNothing()
    {
        var path = Dir.File("model.safetensors");
        var prepared = SafeTensorWriter.Prepare(Mixed, null);
        using var cts = new CancellationTokenSource();
        int calls = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => SafeTensorWriter.Write(path, prepared, (t, s) =>
        {
            PatternData(t, s);
            if (++calls == 2) cts.Cancel();
        }, false, cts.Token));
        Assert.Empty(Dir.FileNames());
    }

    [Fact]
    public void Write_CancelledAfterLastTensor_StillLeavesNothing()
    {
        var path = Dir.File("model.safetensors");
        var prepared = SafeTensorWriter.Prepare([new("t", DType.F32, [1])], null);
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => SafeTensorWriter.Write(path, prepared, (t, s) => { PatternData(t, s); cts.Cancel(); }, false, cts.Token));
        Assert.Empty(Dir.FileNames());
    }

    [Fact]
    public void Prepare_DuplicateNames_AreRefused() =>
        Assert.ThrowsAny<ArgumentException>(() => SafeTensorWriter.Prepare([new("t", DType.F32, [1]), new("t", DType.F32, [1])], null));

    [Fact]
    public void Prepare_TensorNamedMetadata_IsRefused() =>
        Assert.ThrowsAny<ArgumentException>(() => SafeTensorWriter.Prepare([new("__metadata__", DType.F32, [1])], null));

}
