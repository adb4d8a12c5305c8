using ChatVector.Core.Format;
using ChatVector.Core.Models;
using Xunit;

namespace ChatVector.Core.Tests.Models;

/// <summary>
/// The one reader of a model folder's config.json, generation_config.json and tokenizer_config.json: what each value
/// reads as, that a malformed file is one error (SideFileInvalid) naming it, and that each file is read once.
/// </summary>
public sealed class ModelSideFilesTests : TempDirTest
{
    private ModelSideFiles Folder(params (string Name, string Text)[] files)
    {
        RawSafeTensorFile.WriteTo(Dir, "model.safetensors", RawSafeTensorFile.Valid([new RawTensor("a", "F32", [2])]));
        foreach (var (name, text) in files) File.WriteAllText(Dir.File(name), text);
        return StoredModel.Open(Dir.Path).SideFiles!;
    }

    [Fact]
    public void Reads_the_values_merges_and_inference_use()
    {
        var side = Folder(
            (ModelSideFiles.Config, """{"tie_word_embeddings": true, "eos_token_id": 9}"""),
            (ModelSideFiles.GenerationConfig, """{"eos_token_id": [2, 7]}"""),
            (ModelSideFiles.TokenizerConfig, """{"chat_template": "{{ x }}", "eos_token": {"content": "<|eot_id|>", "special": true}, "bos_token": "<s>"}"""));
        Assert.True(side.TiedEmbeddings);
        Assert.Equal("\"{{ x }}\"", side.ChatTemplateJson);
        Assert.Equal("{{ x }}", side.ChatTemplate);
        Assert.Equal("<|eot_id|>", side.EosToken); // an AddedToken object's content
        Assert.Equal("<s>", side.BosToken);
        Assert.Equal("[2,7]", side.EosTokenIdJson);
        Assert.Equal([2L, 7], side.EosIds.Order());
        Assert.Equal(["config.json", "generation_config.json", "tokenizer_config.json"], side.Paths.Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_list_of_named_templates_gives_the_default_one_and_its_json()
    {
        var side = Folder((ModelSideFiles.TokenizerConfig, """{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}"""));
        Assert.Equal("D", side.ChatTemplate);
        Assert.Equal("""[{"name":"tool_use","template":"T"},{"name":"default","template":"D"}]""", side.ChatTemplateJson);
    }

    [Fact]
    public void Eos_ids_fall_back_to_config_json_and_absent_files_read_as_nothing()
    {
        var fallback = Folder((ModelSideFiles.Config, """{"eos_token_id": 5}"""), (ModelSideFiles.GenerationConfig, """{"bos_token_id": 1}"""));
        Assert.Equal([5L], fallback.EosIds);
        Assert.Null(fallback.EosTokenIdJson);

        File.Delete(Dir.File(ModelSideFiles.Config));
        File.Delete(Dir.File(ModelSideFiles.GenerationConfig));
        var none = StoredModel.Open(Dir.Path).SideFiles!;
        Assert.False(none.TiedEmbeddings);
        Assert.Null(none.ChatTemplate);
        Assert.Null(none.ChatTemplateJson);
        Assert.Null(none.EosToken);
        Assert.Null(none.EosTokenIdJson);
        Assert.Empty(none.EosIds);
        none.Check();
    }

    [Fact]
    public void Values_of_another_kind_are_passed_over()
    {
        var side = Folder(
            (ModelSideFiles.Config, """{"tie_word_embeddings": "true"}"""),
            (ModelSideFiles.GenerationConfig, """{"eos_token_id": "2"}"""),
            (ModelSideFiles.TokenizerConfig, """{"chat_template": 3, "eos_token": {"content": 4}, "bos_token": null}"""));
        Assert.False(side.TiedEmbeddings);
        Assert.Empty(side.EosIds);
        Assert.Null(side.EosTokenIdJson);
        Assert.Null(side.ChatTemplate);
        Assert.Null(side.EosToken);
        Assert.Null(side.BosToken);
    }

    [Theory]
    [InlineData(ModelSideFiles.Config, "{ \"architectures\": [\n", "is not valid JSON at line 2")]
    [InlineData(ModelSideFiles.GenerationConfig, "[2]", "holds a JSON array where an object ({ ... }) belongs")]
    [InlineData(ModelSideFiles.TokenizerConfig, "{ \"chat_template\": \n", "is not valid JSON at line 2")]
    public void A_malformed_file_is_SideFileInvalid_naming_the_file_and_where_it_breaks(string name, string text, string expected)
    {
        var side = Folder((name, text));
        var e = Assert.Throws<ModelFolderException>(side.Check);
        Assert.Equal(ModelFolderRule.SideFileInvalid, e.Rule);
        Assert.Equal("SideFileInvalid", ((InputRuleException)e).RuleName);
        Assert.Equal(Dir.File(name), e.FilePath);
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(Dir.File(name) + ": ", e.Message);
        Assert.DoesNotContain("JsonReader", e.Message);
        Assert.DoesNotContain("Newtonsoft", e.Message);
    }

    [Fact]
    public void Each_file_is_read_once()
    {
        var side = Folder((ModelSideFiles.TokenizerConfig, """{"eos_token": "</s>"}"""));
        Assert.Equal("</s>", side.EosToken);
        File.WriteAllText(Dir.File(ModelSideFiles.TokenizerConfig), "{ cut");
        Assert.Equal("</s>", side.EosToken);
        side.Check();
    }

    [Fact]
    public void A_single_file_has_none_and_inference_reads_those_beside_it()
    {
        var path = RawSafeTensorFile.WriteTo(Dir, "weights.safetensors", RawSafeTensorFile.Valid([new RawTensor("w", "F32", [2])]));
        File.WriteAllText(Dir.File(ModelSideFiles.Config), """{"tie_word_embeddings": true}""");
        var model = StoredModel.Open(path);
        Assert.Null(model.SideFiles);
        Assert.False(model.TiedEmbeddings);
        var beside = ModelSideFiles.ForInference(model);
        Assert.True(beside.TiedEmbeddings);
        Assert.Empty(beside.Paths);
        Assert.Equal(Dir.Path, beside.Directory);
    }
}
