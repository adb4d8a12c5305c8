using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Tests.Shared;
using Xunit;

namespace ChatVector.Core.Tests.Format;

public class ModelFolderTests
{
    private static string Model(RawFiles files, int shards = 3, string name = "m")
    {
        var path = Path.Combine(files.Root, name);
        new LlamaModelBuilder { Shards = shards, Tied = true }.Write(path);
        return path;
    }

    private static void AssertRule(SafeTensorRule rule, string path)
    {
        var error = Assert.Throws<SafeTensorException>(() => ModelFolder.Open(path));
        Assert.Equal(rule, error.Rule);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Folders_open_with_and_without_index_in_index_order(int shards)
    {
        using var files = new RawFiles();
        var model = ModelFolder.Open(Model(files, shards));
        var expected = new LlamaModelBuilder { Tied = true }.TensorShapes().Select(t => t.Name).ToList();
        Assert.Equal(shards == 1 ? expected.Order(StringComparer.Ordinal) : expected, shards == 1 ? model.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal) : model.Tensors.Select(t => t.Name));
        Assert.True(model.TiedEmbeddings);
        Assert.Contains(model.SideFiles, f => f.EndsWith("tokenizer_config.json"));
        Assert.DoesNotContain(model.SideFiles, f => f.EndsWith(".safetensors") || f.EndsWith(ModelIndex.FileName));
    }

    [Fact]
    public void Shards_without_index_and_a_single_file_open()
    {
        using var files = new RawFiles();
        var path = Model(files);
        File.Delete(Path.Combine(path, ModelIndex.FileName));
        Assert.Equal(20, ModelFolder.Open(path).Tensors.Count);
        var one = ModelFolder.Open(Directory.GetFiles(path, "*.safetensors")[0]);
        Assert.False(one.IsFolder);
    }

    [Fact]
    public void Index_naming_a_missing_shard()
    {
        using var files = new RawFiles();
        var path = Model(files);
        File.Delete(Path.Combine(path, "model-00002-of-00003.safetensors"));
        AssertRule(SafeTensorRule.IndexMissingShard, path);
    }

    [Fact]
    public void Tensor_missing_from_its_shard_or_in_two_shards()
    {
        using var files = new RawFiles();
        var path = Model(files);
        var index = Path.Combine(path, ModelIndex.FileName);
        var text = File.ReadAllText(index);
        File.WriteAllText(index, text.Replace("\"model.norm.weight\":\"model-00003-of-00003.safetensors\"", "\"model.norm.weight\":\"model-00001-of-00003.safetensors\""));
        AssertRule(SafeTensorRule.TensorInTwoShards, path);
        File.WriteAllText(index, text.Replace("\"weight_map\":{", "\"weight_map\":{\"ghost\":\"model-00001-of-00003.safetensors\","));
        AssertRule(SafeTensorRule.IndexTensorMissing, path);
    }

    [Fact]
    public void Same_tensor_in_two_files_without_index()
    {
        using var files = new RawFiles();
        var path = Model(files, shards: 1);
        File.Copy(Path.Combine(path, "model.safetensors"), Path.Combine(path, "model-copy.safetensors"));
        AssertRule(SafeTensorRule.TensorInTwoShards, path);
    }

    [Theory]
    [InlineData("../outside.safetensors", SafeTensorRule.PathOutsideFolder)]
    [InlineData("/etc/passwd", SafeTensorRule.PathOutsideFolder)]
    public void Index_paths_outside_the_folder_are_refused(string shard, SafeTensorRule rule)
    {
        using var files = new RawFiles();
        var path = Model(files);
        File.WriteAllText(Path.Combine(path, ModelIndex.FileName), $"{{\"weight_map\":{{\"x\":\"{shard}\"}}}}");
        AssertRule(rule, path);
    }

    [Fact]
    public void Index_not_json()
    {
        using var files = new RawFiles();
        var path = Model(files);
        File.WriteAllText(Path.Combine(path, ModelIndex.FileName), "{oops");
        AssertRule(SafeTensorRule.IndexInvalid, path);
    }

    [Fact]
    public void Pickle_weights_are_refused_saying_why_and_what_to_do()
    {
        using var files = new RawFiles();
        var path = Path.Combine(files.Root, "pickle");
        Directory.CreateDirectory(path);
        File.WriteAllBytes(Path.Combine(path, "pytorch_model.bin"), [0x80, 2]);
        var error = Assert.Throws<SafeTensorException>(() => ModelFolder.Open(path));
        Assert.Equal(SafeTensorRule.PickleWeightsRefused, error.Rule);
        Assert.Contains("arbitrary code", error.Message);
        Assert.Contains("safe_serialization=True", error.Message);
    }

    [Fact]
    public void Empty_folder_and_missing_path()
    {
        using var files = new RawFiles();
        AssertRule(SafeTensorRule.NoWeights, files.Root);
        AssertRule(SafeTensorRule.FileNotFound, Path.Combine(files.Root, "nope"));
    }
}
