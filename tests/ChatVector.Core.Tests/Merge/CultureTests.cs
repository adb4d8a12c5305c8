using System.Globalization;
using ChatVector.Core.Export;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Streaming;
using ChatVector.Core.Tensors;
using Xunit;

namespace ChatVector.Core.Tests.Merge;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CultureCollection
{
    /// <summary>These tests set the process's default culture; nothing else may run meanwhile.</summary>
    public const string Name = "Process culture";
}

/// <summary>
/// A server's culture (de-DE writes 0,5; tr-TR upper-cases i to İ; ar-SA reads no "+4") must not change what
/// a merge writes or how settings are read. The default thread culture is set too, so the export's worker
/// threads run under it as well.
/// </summary>
[Collection(CultureCollection.Name)]
public sealed class CultureTests
{
    private static T Under<T>(string culture, Func<T> work)
    {
        var (current, ui, defaultCulture, defaultUi) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture, CultureInfo.DefaultThreadCurrentCulture, CultureInfo.DefaultThreadCurrentUICulture);
        var named = CultureInfo.GetCultureInfo(culture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = named;
        try { return work(); }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (current, ui);
            (CultureInfo.DefaultThreadCurrentCulture, CultureInfo.DefaultThreadCurrentUICulture) = (defaultCulture, defaultUi);
        }
    }

    /// <summary>Merges the trio at ratio 0.5 into <paramref name="name"/>, with the recipe, the ratios and the model card; returns every file's bytes.</summary>
    private static Dictionary<string, byte[]> MergeInto(Trio trio, string name)
    {
        var plan = trio.Plan(0.5);
        var target = trio.Output(name);
        var metadata = new Dictionary<string, string>
        {
            [MergeRecipe.MetadataKey] = plan.Recipe.ToJson(),
            ["chatvector.ratio"] = VectorRatios.ToMetadata([("model.norm.weight", 0.5)])!,
        };
        ModelExporter.Export(new ExportRequest(target, plan.Outputs, Core.Format.ByteSize.Parse("4KB"), metadata,
            SideFiles: new OutputSideFiles(StoredModel.Open(trio.CpPath), plan.Recipe.TemplateOrigin, plan.Recipe.ToModelCard()), Checksums: true,
            Streaming: new StreamingOptions(ChunkBytes: 256, Parallelism: 4)), ComputeContext.Cpu());
        return Directory.GetFiles(target).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    public void A_merge_writes_the_same_bytes_under_any_culture(string culture)
    {
        using var trio = new Trio();
        var invariant = Under("", () => MergeInto(trio, "invariant"));
        var local = Under(culture, () => MergeInto(trio, culture));
        Assert.Equal(invariant.Keys.Order(), local.Keys.Order());
        Assert.All(invariant, file => Assert.True(file.Value.AsSpan().SequenceEqual(local[file.Key]), $"{file.Key} differs under {culture}"));
        var card = System.Text.Encoding.UTF8.GetString(local["README.md"]);
        Assert.Contains("ratio 0.5 ×", card);
        Assert.Contains("\"ratio\": 0.5", card);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    public void Ratios_and_recipes_say_0_5_under_any_culture(string culture)
    {
        using var trio = new Trio();
        var (recipe, ratios) = Under(culture, () => (trio.Plan(0.5).Recipe.ToJson(), VectorRatios.ToMetadata([("a", 0.5)])));
        Assert.Contains("\"ratio\":0.5", recipe);
        Assert.Equal("0.5", ratios);
    }

    [Fact]
    public void CHATVECTOR_settings_are_read_with_the_invariant_culture()
    {
        const string name = "CHATVECTOR_TEST_CULTURE_NUMBER";
        Environment.SetEnvironmentVariable(name, "+4");
        try
        {
            // ar-SA's positive sign is not "+": read with the server's culture, "+4" is no number and the fallback (9) wins.
            Assert.Equal(4, Under("ar-SA", () => Core.Settings.EnvironmentSettings.Number(name, 9, 1, 64)));
        }
        finally { Environment.SetEnvironmentVariable(name, null); }
    }
}
