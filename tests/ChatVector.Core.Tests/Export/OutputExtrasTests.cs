using ChatVector.Core.Export;
using ChatVector.Core.Integrity;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tests.Format;
using Xunit;

namespace ChatVector.Core.Tests.Export;

public class OutputExtrasTests
{
    private static readonly RawTensor[] Tensors = [new("a", "F32", [2]), new("b", "F32", [2])];

    /// <summary>A model folder of one file with <paramref name="metadata"/>, and a config so it has side files.</summary>
    private static StoredModel Model(TempDir dir, string name, Dictionary<string, string> metadata)
    {
        var folder = Path.Combine(dir.Path, name);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), RawSafeTensorFile.Valid(Tensors, metadata));
        File.WriteAllText(Path.Combine(folder, "config.json"), "{}");
        return StoredModel.Open(folder);
    }

    private static List<OutputTensor> Stored(StoredModel model, double? ratio = null)
    {
        var contexts = Inheritance.ForModel(model);
        return model.Tensors.Select(t => new OutputTensor(new StoredTensorSource(t), contexts[t.File], ratio)).ToList();
    }

    [Fact]
    public void Only_the_carried_keys_reach_the_output_never_an_input_checksum()
    {
        using var dir = new TempDir();
        var model = Model(dir, "m", new()
        {
            ["format"] = "pt",
            [ContentChecksums.MetadataKey] = "00,11",
            [MergeRecipe.MetadataKey] = "{\"method\":\"chat_vector\"}",
            [VectorProvenance.KindKey] = VectorProvenance.KindVector,
            ["chatvector.base"] = "/models/base",
            ["training_run"] = "42",
        });

        var output = OutputExtras.Combine(Stored(model));

        Assert.Equal(
            new[] { "chatvector.base", VectorProvenance.KindKey, MergeRecipe.MetadataKey }.Order(StringComparer.Ordinal),
            output.Metadata.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(ContentChecksums.MetadataKey, CarriedMetadata.Keys);
    }

    [Fact]
    public void The_first_input_wins_and_the_user_has_the_last_word()
    {
        using var dir = new TempDir();
        var first = Model(dir, "first", new() { [MergeRecipe.MetadataKey] = "first" });
        var second = Model(dir, "second", new() { [MergeRecipe.MetadataKey] = "second", ["chatvector.chat"] = "/chat" });

        var both = Stored(first).Concat(Stored(second)).ToList();
        Assert.Equal("first", OutputExtras.Combine(both).Metadata[MergeRecipe.MetadataKey]);
        Assert.Equal("/chat", OutputExtras.Combine(both).Metadata["chatvector.chat"]);
        var mine = OutputExtras.Combine(both, new Dictionary<string, string> { [MergeRecipe.MetadataKey] = "mine" });
        Assert.Equal("mine", mine.Metadata[MergeRecipe.MetadataKey]);
    }

    [Fact]
    public void Side_files_only_when_every_tensor_comes_from_the_same_model()
    {
        using var dir = new TempDir();
        var one = Model(dir, "one", []);
        var other = Model(dir, "other", []);

        Assert.Same(one, OutputExtras.Combine(Stored(one)).SideFiles?.CopyFrom);
        Assert.Null(OutputExtras.Combine([.. Stored(one), .. Stored(other)]).SideFiles);
    }

    [Fact]
    public void The_ratios_on_the_pipeline_are_recorded_not_the_inputs_saved_ones()
    {
        using var dir = new TempDir();
        var saved = Model(dir, "cv", new() { [VectorProvenance.KindKey] = VectorProvenance.KindVector, [VectorRatios.MetadataKey] = "0.7" });

        var output = OutputExtras.Combine(Stored(saved, ratio: 0.3));

        Assert.Equal(0.3, VectorRatios.Read(output.Metadata, "a"));
        Assert.False(OutputExtras.Combine(Stored(saved)).Metadata.ContainsKey(VectorRatios.MetadataKey));
    }
}

public class ExportLayoutChecksumTests
{
    [Fact]
    public void A_checksum_entry_the_caller_passes_is_dropped_the_export_records_only_its_own()
    {
        var metadata = new Dictionary<string, string> { [ContentChecksums.MetadataKey] = "stale", ["k"] = "v" };
        using var dir = new TempDir();
        var path = RawSafeTensorFile.WriteTo(dir, "in.safetensors", RawSafeTensorFile.Valid([new RawTensor("a", "F32", [2])]));
        var source = new StoredTensorSource(StoredModel.Open(path).Tensors[0]);

        var plain = ExportLayout.Arrange(new ExportRequest(dir.File("out.safetensors"), [source], Metadata: metadata));
        var withChecksums = ExportLayout.Arrange(new ExportRequest(dir.File("out.safetensors"), [source], Metadata: metadata, Checksums: true));

        Assert.DoesNotContain("stale", System.Text.Encoding.UTF8.GetString(plain.Files[0].Prepared.HeaderWithLength));
        Assert.Contains("\"k\":\"v\"", System.Text.Encoding.UTF8.GetString(plain.Files[0].Prepared.HeaderWithLength));
        Assert.Contains(ContentChecksums.Placeholder(1), System.Text.Encoding.UTF8.GetString(withChecksums.Files[0].Prepared.HeaderWithLength));
    }
}
