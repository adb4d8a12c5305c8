using ChatVector.Core.Models;
using Xunit;

namespace ChatVector.Core.Tests.Models;

/// <summary>model.safetensors.index.json: read (order, total size) and written. Its reject rules are
/// exercised through <see cref="StoredModel"/> in StoredModelTests and fuzzed in ModelIndexFuzzTests.</summary>
public sealed class ModelIndexTests : TempDirTest
{
    private string Index(string weightMapJson, string totalSize)
    {
        var path = Dir.File(ModelIndex.FileName);
        File.WriteAllText(path, $"{{\"metadata\":{{\"total_size\":{totalSize}}},\"weight_map\":{weightMapJson}}}");
        return path;
    }

    [Fact]
    public void ModelIndex_ReadsTotalSizeAndOrder()
    {
        var path = Index("{\"b\":\"s.safetensors\",\"a\":\"s.safetensors\"}", "1234");
        var index = ModelIndex.Read(path);
        Assert.Equal(1234, index.TotalSize);
        Assert.Equal(["b", "a"], index.Order);
    }

    [Fact]
    public void ModelIndex_WriteThenRead_RoundTrips()
    {
        var path = Dir.File("written.index.json");
        new ModelIndex(99, new Dictionary<string, string> { ["b"] = "s2.safetensors", ["a"] = "s1.safetensors" }).Write(path);
        var index = ModelIndex.Read(path);
        Assert.Equal(99, index.TotalSize);
        Assert.Equal(["a", "b"], index.Order);
        Assert.Equal("s2.safetensors", index.WeightMap["b"]);
    }

    /// <summary>Regression found by fuzzing: a total_size beyond 64 bits crashed with OverflowException.</summary>
    [Fact]
    public void TotalSizePast64Bits_ReadsAsUnknown() =>
        Assert.Equal(-1, ModelIndex.Read(Index("{\"a\":\"x.safetensors\"}", "99999999999999999999")).TotalSize);
}
