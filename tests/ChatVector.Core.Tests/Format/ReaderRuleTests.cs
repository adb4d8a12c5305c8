using ChatVector.Core.Format;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>Each reject rule of the format: a clear error naming the file and the rule.</summary>
public class ReaderRuleTests
{
    private const string One = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    private static void AssertRule(SafeTensorRule rule, string path, string? tensor = null)
    {
        var error = Assert.Throws<SafeTensorException>(() => SafeTensorFile.Open(path));
        Assert.Equal(rule, error.Rule);
        Assert.Contains(Path.GetFileName(path), error.Message);
        if (tensor is not null) Assert.Equal(tensor, error.TensorName);
    }

    [Fact]
    public void Valid_file_opens_and_reads_exact_bytes()
    {
        using var files = new RawFiles();
        var data = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var path = files.WriteBytes("ok.safetensors", RawFiles.Build(System.Text.Encoding.UTF8.GetBytes(One), data));
        var file = SafeTensorFile.Open(path);
        var buffer = new byte[3];
        file.ReadTensorBytes(file.Tensors[0], 4, buffer);
        Assert.Equal(new byte[] { 5, 6, 7 }, buffer);
    }

    [Theory]
    [InlineData("missing")]
    public void Missing_file(string name)
    {
        using var files = new RawFiles();
        AssertRule(SafeTensorRule.FileNotFound, Path.Combine(files.Root, name + ".safetensors"));
    }

    [Fact] public void Shorter_than_8_bytes() { using var f = new RawFiles(); AssertRule(SafeTensorRule.FileTooShort, f.WriteBytes("s.safetensors", [1, 2, 3])); }
    [Fact] public void Header_over_100MB() { using var f = new RawFiles(); AssertRule(SafeTensorRule.HeaderTooLarge, f.Write("h.safetensors", "{}", claimedLength: 100_000_001)); }
    [Fact] public void Header_length_beyond_file() { using var f = new RawFiles(); AssertRule(SafeTensorRule.HeaderBeyondFile, f.Write("b.safetensors", "{}", claimedLength: 5000)); }
    [Fact] public void Header_length_near_ulong_max() { using var f = new RawFiles(); AssertRule(SafeTensorRule.HeaderTooLarge, f.Write("m.safetensors", "{}", claimedLength: ulong.MaxValue)); }

    [Fact]
    public void Header_not_utf8()
    {
        using var f = new RawFiles();
        AssertRule(SafeTensorRule.HeaderNotUtf8, f.WriteBytes("u.safetensors", RawFiles.Build([(byte)'{', 0xFF, 0xFE, (byte)'}'], [])));
    }

    [Theory]
    [InlineData("{\"a\":")]
    [InlineData("not json")]
    [InlineData("{} {}")]
    public void Header_not_json(string header) { using var f = new RawFiles(); AssertRule(SafeTensorRule.HeaderNotJson, f.Write("j.safetensors", header)); }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    public void Header_not_an_object(string header) { using var f = new RawFiles(); AssertRule(SafeTensorRule.HeaderNotObject, f.Write("o.safetensors", header)); }

    [Theory]
    [InlineData("{\"__metadata__\":{\"k\":1}}")]
    [InlineData("{\"__metadata__\":[\"x\"]}")]
    public void Metadata_not_string_map(string header) { using var f = new RawFiles(); AssertRule(SafeTensorRule.MetadataNotStringMap, f.Write("md.safetensors", header)); }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}")]
    [InlineData("{\"a\":[1,2]}")]
    public void Invalid_tensor_entry(string header) { using var f = new RawFiles(); AssertRule(SafeTensorRule.InvalidTensorEntry, f.Write("e.safetensors", header, 8), "a"); }

    [Fact] public void Unknown_dtype() { using var f = new RawFiles(); AssertRule(SafeTensorRule.UnknownDType, f.Write("d.safetensors", One.Replace("F32", "F33"), 8), "a"); }
    [Fact] public void Negative_dimension() { using var f = new RawFiles(); AssertRule(SafeTensorRule.NegativeDimension, f.Write("n.safetensors", One.Replace("[2]", "[-2]"), 8), "a"); }

    [Theory]
    [InlineData("[4294967296,4294967296,16]")]
    [InlineData("[99999999999999999999]")]
    public void Size_overflow(string shape) { using var f = new RawFiles(); AssertRule(SafeTensorRule.SizeOverflow, f.Write("z.safetensors", One.Replace("[2]", shape), 8), "a"); }

    [Fact] public void Byte_length_mismatch() { using var f = new RawFiles(); AssertRule(SafeTensorRule.ByteLengthMismatch, f.Write("l.safetensors", One.Replace("[2]", "[3]"), 8), "a"); }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[3,5]}}", 5)] // gap
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3)] // overlap
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2)] // duplicate
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3)] // not from 0
    public void Offsets_not_contiguous(string header, int data) { using var f = new RawFiles(); AssertRule(SafeTensorRule.OffsetsNotContiguous, f.Write("c.safetensors", header, data)); }

    [Theory]
    [InlineData(9)]
    [InlineData(7)]
    public void Data_length_mismatch(int data) { using var f = new RawFiles(); AssertRule(SafeTensorRule.DataLengthMismatch, f.Write("t.safetensors", One, data)); }

    [Fact]
    public void Duplicate_tensor_name()
    {
        using var f = new RawFiles();
        AssertRule(SafeTensorRule.DuplicateTensorName, f.Write("dup.safetensors",
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2));
    }

    [Fact]
    public void Rank0_empty_leading_whitespace_and_padding_are_accepted()
    {
        using var f = new RawFiles();
        var header = "  \n{\"__metadata__\":{\"format\":\"pt\"},\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"BF16\",\"shape\":[0,4],\"data_offsets\":[8,8]}}    ";
        var file = SafeTensorFile.Open(f.Write("ok.safetensors", header, 8));
        Assert.Equal(2, file.Tensors.Count);
        Assert.Empty(file.Find("s")!.Shape);
        Assert.Equal(0, file.Find("e")!.ByteLength);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void A_file_changed_after_opening_is_detected()
    {
        using var f = new RawFiles();
        var path = f.WriteBytes("c.safetensors", RawFiles.Build(System.Text.Encoding.UTF8.GetBytes(One), new byte[8]));
        var file = SafeTensorFile.Open(path);
        File.AppendAllText(path, "x");
        var error = Assert.Throws<SafeTensorException>(() => file.ReadTensorBytes(file.Tensors[0], 0, new byte[8]));
        Assert.Equal(SafeTensorRule.FileChanged, error.Rule);
    }
}
