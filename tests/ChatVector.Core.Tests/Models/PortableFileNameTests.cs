using ChatVector.Core.Export;
using ChatVector.Core.Models;
using ChatVector.Core.Tests.Format;
using Xunit;

namespace ChatVector.Core.Tests.Models;

/// <summary>Names Windows cannot hold are refused on every OS, in an input's index and as an export target.</summary>
public sealed class PortableFileNameTests : TempDirTest
{
    [Theory]
    [InlineData("CON")]
    [InlineData("nul.safetensors")]
    [InlineData("Aux.tar.gz")]
    [InlineData("com1.safetensors")]
    [InlineData("LPT9.json")]
    [InlineData("COM\u00b9.safetensors")]
    [InlineData("NUL .json")]
    [InlineData("conout$.txt")]
    [InlineData("model.safetensors.")]
    [InlineData("model.safetensors ")]
    public void Windows_device_names_and_trailing_dots_or_spaces_are_refused(string name) =>
        Assert.NotNull(PortableFileName.Problem(name));

    [Theory]
    [InlineData("model-00001-of-00002.safetensors")]
    [InlineData("console.safetensors")]
    [InlineData("nullable.json")]
    [InlineData("com10.safetensors")]
    [InlineData("lpt.json")]
    [InlineData("my.con")]
    [InlineData(".nul.partial")]
    public void Ordinary_names_pass(string name) => Assert.Null(PortableFileName.Problem(name));

    [Theory]
    [InlineData("con.safetensors")]
    [InlineData("x.safetensors.")]
    public void An_index_naming_such_a_shard_is_NonPortableName(string shard)
    {
        File.WriteAllText(Dir.File(ModelIndex.FileName), $"{{\"weight_map\":{{\"a\":\"{shard}\"}}}}");
        var e = Assert.Throws<ModelFolderException>(() => StoredModel.Open(Dir.Path));
        Assert.Equal(ModelFolderRule.NonPortableName, e.Rule);
        Assert.Contains($"'{shard}'", e.Message);
    }

    [Theory]
    [InlineData("NUL.safetensors")]
    [InlineData("com3")]
    public void An_export_to_a_device_name_is_refused_before_anything_is_written(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => ExportLayout.Arrange(new ExportRequest(Dir.File(name), [])));
        // Older Windows resolves the full path itself to the device (\\.\NUL): the device is named either way.
        Assert.Contains($"is the Windows device name {name.Split('.')[0].ToUpperInvariant()},", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Dir.Path));
    }
}
