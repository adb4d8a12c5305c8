using ChatVector.Core.Export;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using Xunit;

namespace ChatVector.Core.Tests.Export;

/// <summary>
/// What an output folder gets beside its weights: the side files it patches are read and checked before an export
/// writes anything, and patched from that one reading; those it only copies keep their bytes.
/// </summary>
public sealed class OutputSideFilesTests : TempDirTest
{
    private static readonly VectorProvenance Chat = new("base", "chat", "\"{{ chat }}\"", "<|im_end|>") { EosTokenIdJson = "[2,7]" };

    private StoredModel Source(params (string Name, string Text)[] files)
    {
        RawSafeTensorFile.WriteTo(Dir, "model.safetensors", RawSafeTensorFile.Valid([new RawTensor("a", "F32", [2])]));
        foreach (var (name, text) in files) File.WriteAllText(Dir.File(name), text);
        return StoredModel.Open(Dir.Path);
    }

    private static string Output() => Directory.CreateTempSubdirectory("cv-side-out-").FullName;

    [Theory]
    [InlineData(ModelSideFiles.TokenizerConfig)]
    [InlineData(ModelSideFiles.GenerationConfig)]
    [InlineData(ModelSideFiles.Config)]
    public void A_malformed_file_it_patches_fails_the_check_naming_the_file(string name)
    {
        var sideFiles = new OutputSideFiles(Source((name, "{ \"cut\": \n")), Chat, TorchDType: "bfloat16");
        var e = Assert.Throws<ModelFolderException>(sideFiles.Check);
        Assert.Equal(ModelFolderRule.SideFileInvalid, e.Rule);
        Assert.Equal(Dir.File(name), e.FilePath);
        Assert.Contains("is not valid JSON at line 2", e.Message);
    }

    [Theory]
    [InlineData(ModelSideFiles.TokenizerConfig, "{ \"chat_template\": ")]
    [InlineData(ModelSideFiles.Config, "[1]")]
    public void A_malformed_JSON_side_file_is_refused_even_when_only_copied(string name, string text)
    {
        // Nothing patches it here, but an output folder with a broken config would look complete and not load.
        var sideFiles = new OutputSideFiles(Source((name, text)));
        var e = Assert.Throws<ModelFolderException>(sideFiles.Check);
        Assert.Equal(ModelFolderRule.SideFileInvalid, e.Rule);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Other_side_files_are_copied_byte_for_byte_unparsed()
    {
        const string notJson = "{ not json, and not read as JSON";
        var sideFiles = new OutputSideFiles(Source(("tokenizer.model", notJson), (ModelSideFiles.Config, "{}")));
        sideFiles.Check();
        var output = Output();
        try
        {
            sideFiles.WriteInto(output);
            Assert.Equal(notJson, File.ReadAllText(Path.Combine(output, "tokenizer.model")));
        }
        finally { Directory.Delete(output, recursive: true); }
    }

    [Fact]
    public void Patched_files_keep_the_sources_keys_and_the_source_is_not_changed_by_a_write()
    {
        var model = Source(
            (ModelSideFiles.TokenizerConfig, """{"model_max_length": 2048, "eos_token": "</s>", "chat_template": "old"}"""),
            (ModelSideFiles.GenerationConfig, """{"bos_token_id": 1, "eos_token_id": 2}"""),
            (ModelSideFiles.Config, """{"hidden_size": 8, "torch_dtype": "float32"}"""));
        var sideFiles = new OutputSideFiles(model, Chat, TorchDType: "bfloat16");
        sideFiles.Check();
        var first = Output();
        var second = Output();
        try
        {
            sideFiles.WriteInto(first);
            sideFiles.WriteInto(second);
            Assert.Equal(
                "{\n  \"model_max_length\": 2048,\n  \"eos_token\": \"<|im_end|>\",\n  \"chat_template\": \"{{ chat }}\"\n}",
                File.ReadAllText(Path.Combine(first, ModelSideFiles.TokenizerConfig)));
            Assert.Equal("{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": [\n    2,\n    7\n  ]\n}", File.ReadAllText(Path.Combine(first, ModelSideFiles.GenerationConfig)));
            Assert.Equal("{\n  \"hidden_size\": 8,\n  \"torch_dtype\": \"bfloat16\"\n}", File.ReadAllText(Path.Combine(first, ModelSideFiles.Config)));
            foreach (var name in new[] { ModelSideFiles.TokenizerConfig, ModelSideFiles.GenerationConfig, ModelSideFiles.Config })
                Assert.Equal(File.ReadAllBytes(Path.Combine(first, name)), File.ReadAllBytes(Path.Combine(second, name)));
            Assert.Equal("</s>", model.SideFiles!.EosToken);
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    [Fact]
    public void An_export_whose_source_tokenizer_config_is_malformed_stops_before_anything_is_staged()
    {
        var model = Source((ModelSideFiles.TokenizerConfig, "{ \"chat_template\": "));
        var parent = Output();
        try
        {
            var request = new ExportRequest(Path.Combine(parent, "merged"), model.Tensors.Select(t => (ITensorSource)new StoredTensorSource(t)).ToList(),
                SideFiles: new OutputSideFiles(model, Chat));
            var e = Assert.Throws<ModelFolderException>(() => ModelExporter.Export(request, ComputeContext.Cpu()));
            Assert.Equal(Dir.File(ModelSideFiles.TokenizerConfig), e.FilePath);
            Assert.Empty(Directory.GetFileSystemEntries(parent)); // no target, no staging folder, no lock
        }
        finally { Directory.Delete(parent, recursive: true); }
    }
}
