using System.Text;
using ChatVector.Core.Format;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>Opening and reading one safetensors file: every reject rule of the format (each error names the
/// file and the rule), the edge cases a reader must accept, and ranged reads.</summary>
public sealed class SafeTensorFileTests : TempDirTest
{
    private const string F32x2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    private static SafeTensorException AssertRejected(string path, SafeTensorRule rule)
    {
        var e = Assert.Throws<SafeTensorException>(() => SafeTensorFile.Open(path));
        Assert.Equal(rule, e.Rule);
        Assert.Contains(Path.GetFileName(path), e.Message);
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        return e;
    }

    private SafeTensorException RejectHeader(string header, byte[] data, SafeTensorRule rule, string name = "bad.safetensors") =>
        AssertRejected(RawSafeTensorFile.WriteHeader(Dir, name, header, data), rule);

    // ---- the length prefix ----

    [Fact]
    public void MissingFile_IsFileNotFound() => AssertRejected(Dir.File("absent.safetensors"), SafeTensorRule.FileNotFound);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void FileShorterThanEightBytes_IsFileTooShort(int length) =>
        AssertRejected(RawSafeTensorFile.WriteTo(Dir, "short.safetensors", new byte[length]), SafeTensorRule.FileTooShort);

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 63)]
    public void HeaderLengthOverLimit_IsHeaderTooLarge(ulong declared) =>
        AssertRejected(RawSafeTensorFile.WriteTo(Dir, "huge.safetensors", RawSafeTensorFile.Build(declared, "{}"u8.ToArray(), [])), SafeTensorRule.HeaderTooLarge);

    [Theory]
    [InlineData(3UL)]
    [InlineData(100_000_000UL)]
    public void HeaderLengthPastEndOfFile_IsHeaderBeyondFile(ulong declared) =>
        AssertRejected(RawSafeTensorFile.WriteTo(Dir, "beyond.safetensors", RawSafeTensorFile.Build(declared, "{}"u8.ToArray(), [])), SafeTensorRule.HeaderBeyondFile);

    // ---- the header text ----

    [Fact]
    public void InvalidUtf8Header_IsHeaderNotUtf8()
    {
        byte[] header = [.. "{\"a"u8, 0xFF, .. "\":{}}"u8];
        AssertRejected(RawSafeTensorFile.WriteTo(Dir, "utf8.safetensors", RawSafeTensorFile.Build(header, [])), SafeTensorRule.HeaderNotUtf8);
    }

    [Fact]
    public void OverlongUtf8EncodingInHeader_IsHeaderNotUtf8() =>
        AssertRejected(RawSafeTensorFile.WriteTo(Dir, "overlong.safetensors", RawSafeTensorFile.Build([(byte)'{', 0xC0, 0xAF, (byte)'}'], [])), SafeTensorRule.HeaderNotUtf8);

    [Theory]
    [InlineData("{\"a\":")]
    [InlineData("not json")]
    [InlineData("{} {}")]
    [InlineData("{\"a\":{}} x")]
    [InlineData("")]
    [InlineData("        ")]
    public void MalformedJson_IsHeaderNotJson(string header) => RejectHeader(header, [], SafeTensorRule.HeaderNotJson);

    [Fact]
    public void DeeplyNestedJson_IsHeaderNotJson_NotAStackOverflow() =>
        RejectHeader("{\"__metadata__\":" + new string('[', 100_000) + new string(']', 100_000) + "}", [], SafeTensorRule.HeaderNotJson);

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    [InlineData("true")]
    public void JsonThatIsNotAnObject_IsHeaderNotObject(string header) => RejectHeader(header, [], SafeTensorRule.HeaderNotObject);

    [Theory]
    [InlineData("{\"__metadata__\":[]}")]
    [InlineData("{\"__metadata__\":[\"x\"]}")]
    [InlineData("{\"__metadata__\":\"pt\"}")]
    [InlineData("{\"__metadata__\":null}")]
    [InlineData("{\"__metadata__\":{\"format\":1}}")]
    [InlineData("{\"__metadata__\":{\"format\":null}}")]
    [InlineData("{\"__metadata__\":{\"nested\":{\"a\":\"b\"}}}")]
    public void MetadataThatIsNotAStringMap_IsMetadataNotStringMap(string header) => RejectHeader(header, [], SafeTensorRule.MetadataNotStringMap);

    // ---- tensor entries ----

    [Theory]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}")] // extra key
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}")] // missing data_offsets
    [InlineData("{\"t\":{\"shape\":[2],\"data_offsets\":[0,8]}}")] // missing dtype
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}")] // missing shape
    [InlineData("{\"t\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}")] // dtype not a string
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}")] // shape not an array
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}")] // float in shape
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}")] // fraction in shape
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}")] // shape a string
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}")] // string in shape
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}")] // float in offsets
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}")] // one offset
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}")] // three offsets
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":null}}")] // offsets null
    [InlineData("{\"t\":[1,2]}")] // entry not an object
    [InlineData("{\"t\":\"F32\"}")]
    public void MalformedTensorEntry_IsInvalidTensorEntry(string header)
    {
        var e = RejectHeader(header, new byte[8], SafeTensorRule.InvalidTensorEntry);
        Assert.Equal("t", e.TensorName);
        Assert.Contains("'t'", e.Message);
    }

    [Theory]
    [InlineData("F33")]
    [InlineData("f32")]
    [InlineData("")]
    [InlineData("float32")]
    [InlineData("19")] // an enum value by number must not parse
    [InlineData(" F32")]
    public void UnknownDType_IsUnknownDType(string dtype) =>
        RejectHeader($"{{\"t\":{{\"dtype\":\"{dtype}\",\"shape\":[2],\"data_offsets\":[0,8]}}}}", new byte[8], SafeTensorRule.UnknownDType);

    [Fact]
    public void NegativeDimension_IsNegativeDimension() =>
        RejectHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8], SafeTensorRule.NegativeDimension);

    [Theory]
    [InlineData("[4294967296,4294967296,16]")] // element count overflows
    [InlineData("[4611686018427387904]")] // elements fit, bytes (x4) do not
    [InlineData("[99999999999999999999]")] // a dimension past 64 bits
    [InlineData("[9223372036854775807,9223372036854775807]")]
    public void HugeShape_IsSizeOverflow(string shape) =>
        RejectHeader($"{{\"t\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[0,8]}}}}", new byte[8], SafeTensorRule.SizeOverflow);

    [Theory]
    [InlineData("F32", "[3]", 8)]
    [InlineData("F32", "[2]", 9)]
    [InlineData("F16", "[]", 4)] // rank 0: one element
    [InlineData("F32", "[0]", 4)] // empty tensor holds no bytes
    [InlineData("F4", "[4]", 4)] // four 4-bit values are two bytes
    public void OffsetsDisagreeingWithShape_IsByteLengthMismatch(string dtype, string shape, int end) =>
        RejectHeader($"{{\"t\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[0,{end}]}}}}", new byte[end], SafeTensorRule.ByteLengthMismatch);

    [Fact]
    public void GapBetweenTensors_IsOffsetsNotContiguous() =>
        RejectHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
            new byte[12], SafeTensorRule.OffsetsNotContiguous);

    [Fact]
    public void FirstTensorNotAtZero_IsOffsetsNotContiguous() =>
        RejectHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], SafeTensorRule.OffsetsNotContiguous);

    [Fact]
    public void OverlappingTensors_IsOffsetsNotContiguous() =>
        RejectHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            new byte[12], SafeTensorRule.OffsetsNotContiguous);

    [Fact]
    public void TwoTensorsSharingOffsets_IsOffsetsNotContiguous() =>
        RejectHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            new byte[8], SafeTensorRule.OffsetsNotContiguous);

    [Fact]
    public void NegativeOffsets_IsOffsetsNotContiguous() =>
        RejectHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", [], SafeTensorRule.OffsetsNotContiguous);

    [Fact]
    public void TrailingDataBytes_IsDataLengthMismatch()
    {
        var e = RejectHeader("{\"t\":" + F32x2 + "}", new byte[9], SafeTensorRule.DataLengthMismatch);
        Assert.Contains("trailing", e.Message);
    }

    [Fact]
    public void MissingDataBytes_IsDataLengthMismatch()
    {
        var e = RejectHeader("{\"t\":" + F32x2 + "}", new byte[7], SafeTensorRule.DataLengthMismatch);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void NoTensorsButData_IsDataLengthMismatch() => RejectHeader("{}", new byte[1], SafeTensorRule.DataLengthMismatch);

    [Theory]
    [InlineData("{\"t\":" + F32x2 + ",\"t\":" + F32x2 + "}", 8)] // same offsets too
    [InlineData("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2)] // otherwise valid
    public void SameTensorNameTwice_IsDuplicateTensorName(string header, int data) =>
        RejectHeader(header, new byte[data], SafeTensorRule.DuplicateTensorName);

    [Fact]
    public void MetadataTwice_IsRejected() =>
        RejectHeader("{\"__metadata__\":{},\"__metadata__\":{}}", [], SafeTensorRule.DuplicateTensorName);

    [Theory]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}")]
    [InlineData("{\"__metadata__\":{\"a\":\"b\",\"a\":\"c\"}}")]
    public void DuplicateKeyInsideAnEntryOrMetadata_IsRejected(string header) =>
        // Currently reported as DuplicateTensorName (any duplicate property anywhere); the point here is that it is refused.
        Assert.Throws<SafeTensorException>(() => SafeTensorFile.Open(RawSafeTensorFile.WriteHeader(Dir, "dupkey.safetensors", header, new byte[8])));

    /// <summary>The format's header is JSON; the reference reader (serde_json) refuses these JSON5-ish extensions.</summary>
    [Theory]
    [InlineData("{'t':" + F32x2 + "}")]
    [InlineData("{t:" + F32x2 + "}")]
    [InlineData("{\"t\":" + F32x2 + ",}")]
    [InlineData("{\"t\":" + F32x2 + "} // comment")]
    [InlineData("/*c*/{\"t\":" + F32x2 + "}")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,],\"data_offsets\":[0,8]}}")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[0x2],\"data_offsets\":[0,8]}}")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}")]
    [InlineData("{\"t\":" + F32x2 + "}\u0000")]
    public void NonStandardJson_IsHeaderNotJson(string header) => RejectHeader(header, new byte[8], SafeTensorRule.HeaderNotJson);

    // ---- accepted edge cases ----

    private SafeTensorFile OpenValid(string header, byte[] data) => SafeTensorFile.Open(RawSafeTensorFile.WriteHeader(Dir, "ok.safetensors", header, data));

    [Fact]
    public void RankZeroTensor_IsAccepted()
    {
        var file = OpenValid("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}", new byte[8]);
        var t = Assert.Single(file.Tensors);
        Assert.Empty(t.Shape);
        Assert.Equal(1, t.ElementCount);
        Assert.Equal(8, t.ByteLength);
    }

    [Fact]
    public void EmptyTensors_AreAccepted()
    {
        var file = OpenValid("{\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"z\":{\"dtype\":\"BF16\",\"shape\":[3,0,5],\"data_offsets\":[0,0]}}", []);
        Assert.Equal(2, file.Tensors.Count);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.ByteLength));
    }

    [Fact]
    public void EmptyHeaderObjectAndNoData_IsAccepted()
    {
        var file = OpenValid("{}", []);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void LeadingWhitespaceAndTrailingSpaces_AreAccepted()
    {
        var header = " \n\t {\"t\":" + F32x2 + "}      ";
        var file = OpenValid(header, new byte[8]);
        Assert.Equal("t", Assert.Single(file.Tensors).Name);
        Assert.Equal(8 + header.Length, file.DataStart);
    }

    [Fact]
    public void Metadata_IsReadWhenPresentAndEmptyWhenAbsent()
    {
        var with = OpenValid("{\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\"},\"t\":" + F32x2 + "}", new byte[8]);
        Assert.Equal("pt", with.Metadata["format"]);
        Assert.Equal("v", with.Metadata["k"]);
        Assert.Single(with.Tensors);
        Assert.Null(with.Find("__metadata__"));

        var without = OpenValid("{\"t\":" + F32x2 + "}", new byte[8]);
        Assert.Empty(without.Metadata);
    }

    [Fact]
    public void SubByteDTypes_WithWholeBytes_AreAccepted()
    {
        var file = OpenValid("{\"a\":{\"dtype\":\"F4\",\"shape\":[2,3],\"data_offsets\":[0,3]},\"b\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[3,6]}}", new byte[6]);
        Assert.Equal([3L, 3L], file.Tensors.Select(t => t.ByteLength));
    }

    [Fact]
    public void SubByteDTypeWithPartialByte_IsRejected() =>
        Assert.Throws<SafeTensorException>(() => OpenValid("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", new byte[2]));

    [Fact]
    public void TensorsAreListedInDataOrder_NotHeaderOrder()
    {
        var file = OpenValid("{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[3,5]},\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}", new byte[5]);
        Assert.Equal(["a", "b"], file.Tensors.Select(t => t.Name));
        Assert.Equal(3, file.Find("b")!.Begin);
    }

    // ---- reading data ----

    [Fact]
    public void ReadTensorBytes_ReadsExactBytesAtOffsets()
    {
        RawTensor[] tensors = [new("a", "F32", [2, 3]), new("b", "U8", [5]), new("c", "I64", [])];
        var bytes = RawSafeTensorFile.Valid(tensors);
        var file = SafeTensorFile.Open(RawSafeTensorFile.WriteTo(Dir, "data.safetensors", bytes));
        var data = bytes.AsSpan((int)file.DataStart).ToArray();
        foreach (var t in file.Tensors)
        {
            var buffer = new byte[t.ByteLength];
            file.ReadTensorBytes(t, 0, buffer);
            Assert.Equal(data[(int)t.Begin..(int)t.End], buffer);
        }
        var a = file.Find("a")!;
        var part = new byte[5];
        file.ReadTensorBytes(a, 7, part);
        Assert.Equal(data[7..12], part);
    }

    [Fact]
    public void ReadTensorBytes_OutsideTheTensor_IsArgumentOutOfRange()
    {
        var file = SafeTensorFile.Open(RawSafeTensorFile.WriteTo(Dir, "r.safetensors", RawSafeTensorFile.Valid([new("a", "F32", [2]), new("b", "F32", [2])])));
        var a = file.Find("a")!;
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadTensorBytes(a, 4, new byte[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadTensorBytes(a, -1, new byte[1]));
    }

    [Fact]
    public void ReadTensorBytes_HugeOffset_IsRejectedByTheBoundsCheck()
    {
        var file = SafeTensorFile.Open(RawSafeTensorFile.WriteTo(Dir, "r.safetensors", RawSafeTensorFile.Valid([new("a", "F32", [2])])));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadTensorBytes(file.Tensors[0], long.MaxValue, new byte[1]));
        Assert.Equal("offsetInTensor", e.ParamName);
    }

    [Fact]
    public void AppendingAByteAfterOpen_MakesReadTensorBytesThrowFileChanged()
    {
        var path = RawSafeTensorFile.WriteTo(Dir, "changing.safetensors", RawSafeTensorFile.Valid([new("a", "F32", [2])]));
        var file = SafeTensorFile.Open(path);
        using (var s = new FileStream(path, FileMode.Append)) s.WriteByte(0);
        var e = Assert.Throws<SafeTensorException>(() => file.ReadTensorBytes(file.Tensors[0], 0, new byte[8]));
        Assert.Equal(SafeTensorRule.FileChanged, e.Rule);
        Assert.Equal("a", e.TensorName);
        Assert.Contains("changing.safetensors", e.Message);
    }

    [Fact]
    public void RewritingTheFileWithSameLength_MakesReadTensorBytesThrowFileChanged()
    {
        var bytes = RawSafeTensorFile.Valid([new("a", "F32", [2])]);
        var path = RawSafeTensorFile.WriteTo(Dir, "rewritten.safetensors", bytes);
        var file = SafeTensorFile.Open(path);
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1)); // coarse file systems: make the change visible
        var e = Assert.Throws<SafeTensorException>(() => file.ReadTensorBytes(file.Tensors[0], 0, new byte[8]));
        Assert.Equal(SafeTensorRule.FileChanged, e.Rule);
    }

    [Fact]
    public void DeletingTheFileAfterOpen_MakesReadTensorBytesThrowFileChanged()
    {
        var path = RawSafeTensorFile.WriteTo(Dir, "gone.safetensors", RawSafeTensorFile.Valid([new("a", "F32", [2])]));
        var file = SafeTensorFile.Open(path);
        File.Delete(path);
        var e = Assert.Throws<SafeTensorException>(() => file.ReadTensorBytes(file.Tensors[0], 0, new byte[8]));
        Assert.Equal(SafeTensorRule.FileChanged, e.Rule);
    }
}
