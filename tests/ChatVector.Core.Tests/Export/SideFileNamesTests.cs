using ChatVector.Core.Export;
using ChatVector.Core.Models;
using ChatVector.Core.Tests.Format;
using Xunit;

namespace ChatVector.Core.Tests.Export;

/// <summary>
/// Side-file names compare as Windows compares them (ignoring case): on a Windows server a source's
/// Model.safetensors.index.json or ReadMe.md is the same file as the index or card the export writes.
/// </summary>
public sealed class SideFileNamesTests : TempDirTest
{
    private StoredModel SourceWith(params string[] sideFiles)
    {
        RawSafeTensorFile.WriteTo(Dir, "model-00001-of-00001.safetensors", RawSafeTensorFile.Valid([new RawTensor("a", "F32", [2])]));
        File.WriteAllText(Dir.File(ModelIndex.FileName), "{\"weight_map\":{\"a\":\"model-00001-of-00001.safetensors\"}}");
        foreach (var name in sideFiles) File.WriteAllText(Dir.File(name), $"the source's {name}");
        return StoredModel.Open(Dir.Path);
    }

    [Fact]
    public void An_index_named_in_another_case_is_not_a_side_file()
    {
        var model = SourceWith("config.json", "Model.safetensors.index.json", "MODEL.SAFETENSORS.INDEX.JSON");
        Assert.Equal(["config.json"], model.SideFiles!.Paths.Select(Path.GetFileName));
    }

    [Fact]
    public void A_source_card_named_in_another_case_is_not_copied_beside_the_new_card()
    {
        var sideFiles = new OutputSideFiles(SourceWith("config.json", "ReadMe.md"), ModelCard: "the merge's card");
        Assert.Equal(["README.md", "config.json"], sideFiles.FileNames());
        var output = Directory.CreateTempSubdirectory("cv-side-").FullName;
        try
        {
            sideFiles.WriteInto(output);
            Assert.Equal(["README.md", "config.json"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal("the merge's card", File.ReadAllText(Path.Combine(output, "README.md")));
        }
        finally { Directory.Delete(output, recursive: true); }
    }
}
