using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.Models;

/// <summary>Opening a model: indexed shards, one model.safetensors, shards without an index or one file;
/// every folder/index rule; side files and config.</summary>
public sealed class StoredModelTests : TempDirTest
{
    private string Shard(string name, params string[] tensors) =>
        RawSafeTensorFile.WriteTo(Dir, name, RawSafeTensorFile.Valid(tensors.Select(t => new RawTensor(t, "F32", [2])), new Dictionary<string, string> { ["format"] = "pt" }));

    private string Index(string weightMapJson, long totalSize = 0) =>
        WriteText(ModelIndex.FileName, $"{{\"metadata\":{{\"total_size\":{totalSize}}},\"weight_map\":{weightMapJson}}}");

    private string WriteText(string name, string text)
    {
        var path = Dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A <see cref="SafeTensorRule"/> (a file in the folder) or a <see cref="ModelFolderRule"/> (the folder), each with its own exception type.</summary>
    private InputRuleException Rejected(Enum rule, string? path = null)
    {
        var e = Assert.ThrowsAny<InputRuleException>(() => StoredModel.Open(path ?? Dir.Path));
        Assert.Equal(rule, e switch { SafeTensorException f => f.Rule, ModelFolderException m => (Enum)m.Rule, _ => null });
        return e;
    }

    [Fact]
    public void IndexedShards_AreListedInIndexOrder()
    {
        Shard("model-00001-of-00002.safetensors", "a", "z");
        Shard("model-00002-of-00002.safetensors", "m");
        Index("{\"z\":\"model-00001-of-00002.safetensors\",\"m\":\"model-00002-of-00002.safetensors\",\"a\":\"model-00001-of-00002.safetensors\"}", 24);
        var model = StoredModel.Open(Dir.Path);
        Assert.True(model.IsFolder);
        Assert.Equal(["z", "m", "a"], model.Tensors.Select(t => t.Name));
        Assert.Equal(2, model.Files.Count);
        Assert.Equal("model-00002-of-00002.safetensors", Path.GetFileName(model.Find("m")!.File.Path));
        Assert.Null(model.Find("absent"));
    }

    [Fact]
    public void ABuiltShardedLlama_OpensInIndexOrderWithItsSideFiles()
    {
        var path = Dir.File("llama");
        var builder = new LlamaModelBuilder { Shards = 3, Tied = true };
        builder.Write(path);
        var model = StoredModel.Open(path);
        Assert.Equal(builder.TensorShapes().Select(t => t.Name), model.Tensors.Select(t => t.Name));
        Assert.Equal(3, model.Files.Count);
        Assert.True(model.TiedEmbeddings);
        Assert.Contains(model.SideFiles!.Paths, f => f.EndsWith("tokenizer_config.json", StringComparison.Ordinal));
    }

    [Fact]
    public void SingleModelSafetensors_IsOpened()
    {
        Shard("model.safetensors", "b", "a");
        var model = StoredModel.Open(Dir.Path);
        Assert.Equal(["b", "a"], model.Tensors.Select(t => t.Name));
        Assert.Single(model.Files);
    }

    [Fact]
    public void ShardsWithoutIndex_AreOpenedFileByFileInNameOrder()
    {
        Shard("model-00002-of-00002.safetensors", "c");
        Shard("model-00001-of-00002.safetensors", "a", "b");
        var model = StoredModel.Open(Dir.Path);
        Assert.Equal(["a", "b", "c"], model.Tensors.Select(t => t.Name));
        Assert.Equal(2, model.Files.Count);
    }

    [Fact]
    public void SingleFilePath_IsOpenedAsAModelWithoutSideFiles()
    {
        var path = Shard("weights.safetensors", "w");
        WriteText("config.json", "{\"tie_word_embeddings\":true}");
        var model = StoredModel.Open(path);
        Assert.False(model.IsFolder);
        Assert.Equal(Dir.Path, model.Directory);
        Assert.Equal("w", Assert.Single(model.Tensors).Name);
        Assert.Null(model.SideFiles);
        Assert.False(model.TiedEmbeddings);
    }

    [Fact]
    public void MissingPath_IsFileNotFound() => Rejected(SafeTensorRule.FileNotFound, Dir.File("nope"));

    [Fact]
    public void IndexNamingAnAbsentShard_IsIndexMissingShard()
    {
        Shard("model-00001-of-00002.safetensors", "a");
        Index("{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}");
        var e = Rejected(ModelFolderRule.IndexMissingShard);
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains(ModelIndex.FileName, e.Message);
    }

    [Fact]
    public void IndexPuttingATensorInAShardThatLacksIt_IsIndexTensorMissing()
    {
        Shard("s1.safetensors", "a");
        Shard("s2.safetensors", "b");
        Index("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\",\"ghost\":\"s2.safetensors\"}");
        var e = Rejected(ModelFolderRule.IndexTensorMissing);
        Assert.Equal("ghost", e.TensorName);
    }

    [Fact]
    public void IndexBesideAModelSafetensors_IsIndexInvalid_AsTransformersWouldLoadTheSingleFile()
    {
        Shard("s1.safetensors", "a");
        Shard("model.safetensors", "a");
        Index("{\"a\":\"s1.safetensors\"}");
        var e = Rejected(ModelFolderRule.IndexInvalid);
        Assert.Contains("both model.safetensors and model.safetensors.index.json", e.Message);
    }

    [Fact]
    public void IndexThatMapsEveryTensorToModelSafetensors_DescribesThatFile_AndOpens()
    {
        Shard("model.safetensors", "a", "b");
        Index("{\"a\":\"model.safetensors\",\"b\":\"model.safetensors\"}");
        Assert.Equal(["a", "b"], StoredModel.Open(Dir.Path).Tensors.Select(t => t.Name));
    }

    [Fact]
    public void ShardHoldingATensorTheIndexDoesNotList_IsIndexInvalid()
    {
        Shard("s1.safetensors", "a", "unlisted");
        Index("{\"a\":\"s1.safetensors\"}");
        Assert.Equal("unlisted", Rejected(ModelFolderRule.IndexInvalid).TensorName);
    }

    [Theory]
    [InlineData("a", "b")] // b really is in both shards
    [InlineData("a")] // b is only in s2, the index lists it under s1
    public void IndexedTensorFoundInAShardOtherThanListed_IsTensorInTwoShards(params string[] inS1)
    {
        Shard("s1.safetensors", inS1);
        Shard("s2.safetensors", "b", "c");
        Index("{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\",\"c\":\"s2.safetensors\"}");
        Assert.Equal("b", Rejected(ModelFolderRule.TensorInTwoShards).TensorName);
    }

    [Fact]
    public void TensorInTwoShards_WithoutIndex_IsTensorInTwoShards()
    {
        Shard("s1.safetensors", "a", "b");
        Shard("s2.safetensors", "b", "c");
        var e = Rejected(ModelFolderRule.TensorInTwoShards);
        Assert.Equal("b", e.TensorName);
        Assert.Contains("s1.safetensors", e.Message);
        Assert.Contains("s2.safetensors", e.Message);
    }

    [Theory]
    [InlineData("../x.safetensors")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/x.safetensors")]
    [InlineData("sub\\\\x.safetensors")]
    [InlineData("C:x.safetensors")]
    [InlineData("")]
    public void IndexShardPathOutsideFolder_IsPathOutsideFolder(string shard)
    {
        Directory.CreateDirectory(Dir.File("sub"));
        Shard("x.safetensors", "a");
        Index($"{{\"a\":\"{shard}\"}}");
        Rejected(ModelFolderRule.PathOutsideFolder);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"metadata\":{}}")] // no weight_map
    [InlineData("{\"weight_map\":[]}")]
    [InlineData("{\"weight_map\":{\"a\":1}}")]
    [InlineData("{\"weight_map\":{\"a\":\"s.safetensors\",\"a\":\"s.safetensors\"}}")]
    [InlineData("{\"weight_map\":{}")]
    [InlineData("{\"metadata\":{},\"weight_map\":{}}")] // maps nothing: a model of no tensors
    public void IndexThatIsNotAValidIndex_IsIndexInvalid(string text)
    {
        Shard("s.safetensors", "a");
        WriteText(ModelIndex.FileName, text);
        var e = Rejected(ModelFolderRule.IndexInvalid);
        Assert.Contains(ModelIndex.FileName, e.Message);
    }

    [Fact]
    public void PickleOnlyFolder_IsPickleWeightsRefused_AndSaysWhy()
    {
        File.WriteAllBytes(Dir.File("pytorch_model.bin"), [0x80, 0x02]);
        WriteText("config.json", "{}");
        var e = Rejected(ModelFolderRule.PickleWeightsRefused);
        Assert.Contains("pickle", e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("arbitrary code", e.Message);
        Assert.Contains("safe_serialization=True", e.Message); // what to do about it
    }

    [Fact]
    public void EmptyFolder_IsNoWeights() => Rejected(ModelFolderRule.NoWeights);

    [Fact]
    public void FolderWithOnlySideFiles_IsNoWeights()
    {
        WriteText("config.json", "{}");
        Rejected(ModelFolderRule.NoWeights);
    }

    [Fact]
    public void SideFiles_ListConfigAndTokenizerButNotWeightsIndexPickleOrHiddenFiles()
    {
        Shard("model-00001-of-00001.safetensors", "a");
        Index("{\"a\":\"model-00001-of-00001.safetensors\"}");
        WriteText("config.json", "{}");
        WriteText("tokenizer_config.json", "{}");
        WriteText("generation_config.json", "{}");
        File.WriteAllBytes(Dir.File("pytorch_model.bin"), [0]);
        WriteText(".model.safetensors.abc.tmp", "");
        var model = StoredModel.Open(Dir.Path);
        Assert.Equal(["config.json", "generation_config.json", "tokenizer_config.json"], model.SideFiles!.Paths.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(model.SideFiles.Paths, f => Assert.True(Path.IsPathFullyQualified(f)));
    }

    [Fact]
    public void SafetensorsBesidePickle_WinsOverPickle()
    {
        Shard("model.safetensors", "a");
        File.WriteAllBytes(Dir.File("pytorch_model.bin"), [0]);
        Assert.Single(StoredModel.Open(Dir.Path).Tensors);
    }

    [Theory]
    [InlineData("{\"tie_word_embeddings\":true}", true)]
    [InlineData("{\"tie_word_embeddings\":false}", false)]
    [InlineData("{}", false)]
    [InlineData("{\"tie_word_embeddings\":\"true\"}", false)]
    public void TiedEmbeddings_ComesFromConfigJson(string config, bool expected)
    {
        Shard("model.safetensors", "a");
        WriteText("config.json", config);
        Assert.Equal(expected, StoredModel.Open(Dir.Path).TiedEmbeddings);
    }

    [Fact]
    public void TiedEmbeddings_WithoutConfig_IsFalse()
    {
        Shard("model.safetensors", "a");
        Assert.False(StoredModel.Open(Dir.Path).TiedEmbeddings);
    }

    [Fact]
    public void BrokenShard_PropagatesTheFileRuleNamingTheShard()
    {
        RawSafeTensorFile.WriteTo(Dir, "model.safetensors", new byte[3]);
        var e = Rejected(SafeTensorRule.FileTooShort);
        Assert.Contains("model.safetensors", e.Message);
    }
}
