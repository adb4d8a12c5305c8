using ChatVector.Core.Config;
using ChatVector.Core.Export;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tests.Sparsify;
using ChatVector.TestKit;
using Newtonsoft.Json.Linq;
using Xunit;

namespace ChatVector.Core.Tests.Config;

/// <summary>
/// Configs without a tokenizer setting whose models' embeddings and LM heads have different numbers of rows, run as
/// mergekit's methods run them: linear (and slerp, nuslerp, model_stock, arcee_fusion) merge the rows every model has
/// (rectify_embed_sizes), the task-arithmetic family cuts each model to the base's rows (get_task_vectors), the other
/// methods refuse. The models are fine-tunes of one bf16 model (a few bf16 steps per value) with 44, 42 and 40 tokens;
/// expected values are computed here in float64 from the values the kit wrote.
/// </summary>
public sealed class VocabularyCutTests : TempDirTest
{
    static VocabularyCutTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch

    private const int Hidden = 16;
    private static readonly string[] VocabularyTensors = ["model.embed_tokens.weight", "lm_head.weight"];
    private readonly Dictionary<string, Dictionary<string, float[]>> _values = new();

    public VocabularyCutTests()
    {
        var tokens = Enumerable.Range(0, 44).Select(i => $"w{i}").ToArray();
        _values["big"] = new LlamaModelBuilder { Seed = 41, Vocab = 44, TokenizerVocab = tokens }.Write(Dir.File("big"));
        foreach (var (name, rows, seed) in new[] { ("mid", 42, 42), ("small", 40, 43) })
            _values[name] = new LlamaModelBuilder
            {
                Seed = seed, Vocab = rows, TokenizerVocab = tokens[..rows], FineTuneOf = _values["big"], FineTuneOfTokens = tokens,
            }.Write(Dir.File(name));
    }

    [Fact]
    public void Linear_merges_the_rows_every_model_has_and_config_json_gets_their_number()
    {
        // mergekit merges the base_model as one of linear's models (listed here with its weight).
        var plan = Plan("merge_method: linear\nbase_model: big\nmodels:\n  - model: big\n    parameters: {weight: 0.5}\n  - model: small\n    parameters: {weight: 0.3}\n  - model: mid\n    parameters: {weight: 0.7}\ndtype: float32\n");

        foreach (var name in VocabularyTensors)
        {
            var output = Output(plan, name);
            Assert.Equal([40L, Hidden], output.Shape);
            // mergekit's linear: Σ wᵢ·xᵢ / Σ wᵢ over the models, the base among them, each cut to its first 40 rows.
            var expected = Enumerable.Range(0, 40 * Hidden).Select(i => (0.5 * _values["big"][name][i] + 0.3 * _values["small"][name][i] + 0.7 * _values["mid"][name][i]) / 1.5).ToArray();
            AssertClose(expected, Read(output), name);
        }
        // The other tensors merge whole.
        var gate = Output(plan, "model.layers.0.mlp.gate_proj.weight");
        const string Gate = "model.layers.0.mlp.gate_proj.weight";
        AssertClose(_values["small"][Gate].Select((v, i) => (0.5 * _values["big"][Gate][i] + 0.3 * v + 0.7 * _values["mid"][Gate][i]) / 1.5).ToArray(), Read(gate), "gate_proj");

        Assert.Equal(40, plan.VocabSize);
        Assert.Equal(40, (long)ConfigJson(plan)["vocab_size"]!);
        var warnings = plan.Warnings!;
        Assert.Contains(warnings, w => w.Contains("tensor 'model.embed_tokens.weight'") && w.Contains("[44, 16]") && w.Contains("'small' [40, 16]") && w.Contains("from id 40 up have no row"));
        Assert.Contains(warnings, w => w.Contains("vocab_size is 40") && w.Contains("is 44"));
        // The model card keeps them.
        var card = ConfigCard.Write(plan);
        Assert.Contains("## Warnings", card);
        foreach (var warning in warnings) Assert.Contains("- " + warning, card);
    }

    [Fact]
    public void Task_arithmetic_takes_the_base_s_rows_of_each_larger_model_and_keeps_vocab_size()
    {
        var plan = Plan("merge_method: task_arithmetic\nbase_model: small\nmodels:\n  - model: big\n    parameters: {weight: 0.5}\n  - model: mid\n    parameters: {weight: 0.25}\ndtype: float32\n");

        foreach (var name in VocabularyTensors)
        {
            var output = Output(plan, name);
            Assert.Equal([40L, Hidden], output.Shape);
            var (b, big, mid) = (_values["small"][name], _values["big"][name], _values["mid"][name]);
            AssertClose(Enumerable.Range(0, 40 * Hidden).Select(i => b[i] + 0.5 * (big[i] - b[i]) + 0.25 * (mid[i] - b[i])).ToArray(), Read(output), name);
        }
        Assert.Null(plan.VocabSize);
        Assert.Equal(40, (long)ConfigJson(plan)["vocab_size"]!);
        Assert.Contains(plan.Warnings!, w => w.Contains("first 40 rows of each model") && w.Contains("'big', 'mid' have no row"));
    }

    [Fact]
    public void Without_a_base_linear_cuts_to_the_common_rows_and_config_json_follows_the_first_model()
    {
        var plan = Plan("merge_method: linear\nmodels:\n  - model: mid\n    parameters: {weight: 1.0}\n  - model: small\n    parameters: {weight: 3.0}\ndtype: float32\n");
        var output = Output(plan, "lm_head.weight");
        Assert.Equal([40L, Hidden], output.Shape);
        AssertClose(Enumerable.Range(0, 40 * Hidden).Select(i => (_values["mid"]["lm_head.weight"][i] + 3.0 * _values["small"]["lm_head.weight"][i]) / 4.0).ToArray(), Read(output), "lm_head");
        Assert.Equal(40, (long)ConfigJson(plan)["vocab_size"]!);
    }

    [Fact]
    public void A_method_mergekit_does_not_rectify_and_a_model_smaller_than_the_base_are_refused_naming_the_sizes()
    {
        var sce = Assert.Throws<MergeConfigException>(() => Plan("merge_method: sce\nbase_model: big\nmodels:\n  - model: small\n  - model: mid\n"));
        Assert.Contains(sce.Problems, p => p.Contains("tensor 'model.embed_tokens.weight'") && p.Contains("the base [44, 16], 'small' [40, 16], 'mid' [42, 16]")
            && p.Contains("sce does not merge embeddings of different sizes") && p.Contains("tokenizer_source"));

        var smaller = Assert.Throws<MergeConfigException>(() => Plan("merge_method: ties\nbase_model: mid\nmodels:\n  - model: small\n    parameters: {weight: 1.0, density: 0.5}\n"));
        Assert.Contains(smaller.Problems, p => p.Contains("tensor 'lm_head.weight'") && p.Contains("'small' has 40 rows, fewer than the base's 42"));
    }

    [Fact]
    public void Linear_merges_the_base_model_as_one_of_its_models_as_mergekit_does()
    {
        const string Gate = "model.layers.0.mlp.gate_proj.weight";
        double[] Mix(double wBig, double wSmall, double wMid, double divisor) =>
            _values["big"][Gate].Select((v, i) => (wBig * v + wSmall * _values["small"][Gate][i] + wMid * _values["mid"][Gate][i]) / divisor).ToArray();
        const string Models = "models:\n  - model: small\n    parameters: {weight: 0.3}\n  - model: mid\n    parameters: {weight: 0.7}\ndtype: float32\n";

        // Not listed: mergekit adds it to the models, where it takes the global weight.
        var added = Plan("merge_method: linear\nbase_model: big\nparameters: {weight: 0.5}\n" + Models);
        AssertClose(Mix(0.5, 0.3, 0.7, 1.5), Read(Output(added, Gate)), "base added with the global weight");
        // Without a weight for it mergekit fails; here the problem names the base.
        var unweighted = Assert.Throws<MergeConfigException>(() => Plan("merge_method: linear\nbase_model: big\n" + Models));
        Assert.Contains(unweighted.Problems, p => p.Contains("model 'big'") && p.Contains("parameter 'weight' is required"));
        // Without normalizing, Σ wᵢ·xᵢ: the base's own weight times the base, not base + Σ wᵢ·δᵢ.
        var summed = Plan("merge_method: linear\nbase_model: big\nparameters: {normalize: false}\nmodels:\n  - model: big\n    parameters: {weight: 0.5}\n"
            + Models.Replace("models:\n", ""));
        AssertClose(Mix(0.5, 0.3, 0.7, 1.0), Read(Output(summed, Gate)), "not normalized");
    }

    [Fact]
    public void Slices_cut_the_embedding_among_the_first_slice_s_sources_and_the_head_among_the_last_s()
    {
        // Layer 0 merged from big, small and mid; layer 1 from the same three with other weights.
        const string Source = "      - model: {0}\n        layer_range: [{1}, {2}]\n{3}";
        string Slice(int start, params (string Model, double? Weight)[] sources) => "  - sources:\n" + string.Concat(sources.Select(x =>
            string.Format(System.Globalization.CultureInfo.InvariantCulture, Source, x.Model, start, start + 1, x.Weight is { } w ? $"        parameters: {{weight: {w}}}\n" : "")));
        var plan = Plan("merge_method: linear\nbase_model: big\nslices:\n" + Slice(0, ("big", 0.0), ("small", 0.3), ("mid", 0.7))
            + Slice(1, ("big", 0.0), ("mid", 0.25), ("small", 0.75)) + "dtype: float32\nchat_template: chatml\n");

        // The embedding from the first slice's weights, the LM head from the last's, each over the 40 rows all three have.
        foreach (var (name, wSmall, wMid) in new[] { ("model.embed_tokens.weight", 0.3, 0.7), ("lm_head.weight", 0.75, 0.25) })
        {
            var output = Output(plan, name);
            Assert.Equal([40L, Hidden], output.Shape);
            AssertClose(Enumerable.Range(0, 40 * Hidden).Select(i => wSmall * _values["small"][name][i] + wMid * _values["mid"][name][i]).ToArray(), Read(output), name);
        }
        Assert.Equal(40, (long)ConfigJson(plan)["vocab_size"]!);
        Assert.Contains(plan.Warnings!, w => w.Contains("tensor 'lm_head.weight'") && w.Contains("the base source 'big' [44, 16]"));
        // chat_template is written in layer stacking as in any config.
        Assert.Contains("<|im_start|>", plan.ChatTemplateJson);

        // A head cut to other rows than the embedding, and a passthrough of models of different vocabularies, fit no vocab_size.
        var uneven = Assert.Throws<MergeConfigException>(() => Plan("merge_method: linear\nbase_model: big\nslices:\n" + Slice(0, ("big", 0.0), ("small", 1.0))
            + Slice(1, ("big", 0.0), ("mid", 1.0))));
        Assert.Contains(uneven.Problems, p => p.Contains("'model.embed_tokens.weight' 40, 'lm_head.weight' 42") && p.Contains("no config.json vocab_size fits"));
        var passthrough = Assert.Throws<MergeConfigException>(() => Plan("merge_method: passthrough\nslices:\n" + Slice(0, ("small", null)) + Slice(1, ("mid", null))));
        Assert.Contains(passthrough.Problems, p => p.Contains("'model.embed_tokens.weight' 40, 'lm_head.weight' 42"));
        // One slice of a method that does not rectify is refused naming its sources' sizes.
        var sce = Assert.Throws<MergeConfigException>(() => Plan("merge_method: sce\nbase_model: big\nslices:\n" + Slice(0, ("big", null), ("small", null)) + Slice(1, ("big", null), ("small", null))));
        Assert.Contains(sce.Problems, p => p.Contains("the base source 'big' [44, 16], 'small' [40, 16]") && p.Contains("sce does not merge"));
    }

    [Fact]
    public void Without_a_base_a_model_lacking_a_vocabulary_tensor_is_named_not_thrown_on()
    {
        var tokens = Enumerable.Range(0, 44).Select(i => $"w{i}").ToArray();
        new LlamaModelBuilder { Seed = 45, Vocab = 44, Tied = true, TokenizerVocab = tokens }.Write(Dir.File("tied"));
        var failure = Assert.Throws<MergeConfigException>(() => Plan("merge_method: linear\nmodels:\n  - model: big\n    parameters: {weight: 1.0}\n  - model: tied\n    parameters: {weight: 1.0}\ntokenizer_source: union\n"));
        Assert.Contains(failure.Problems, p => p.Contains("model 'tied' has no tensor 'lm_head.weight'"));
    }

    [Fact]
    public void Other_tensors_of_another_shape_stay_refused()
    {
        var tokens = Enumerable.Range(0, 40).Select(i => $"w{i}").ToArray();
        new LlamaModelBuilder { Seed = 44, Vocab = 40, Intermediate = 32, TokenizerVocab = tokens }.Write(Dir.File("wide"));
        var failure = Assert.Throws<MergeConfigException>(() => Plan("merge_method: linear\nbase_model: big\nmodels:\n  - model: big\n    parameters: {weight: 1.0}\n  - model: wide\n    parameters: {weight: 1.0}\n"));
        Assert.Contains(failure.Problems, p => p.Contains("model 'wide'") && p.Contains("model.layers.0.mlp.gate_proj.weight"));
        Assert.DoesNotContain(failure.Problems, p => p.Contains("embed_tokens"));
    }

    private ConfigPlan Plan(string yaml)
    {
        string path = Dir.File($"config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, yaml);
        return ConfigMerge.Plan(MergeConfig.Read(path));
    }

    private static ITensorSource Output(ConfigPlan plan, string name) => plan.Outputs.Single(o => o.Name == name);

    private static double[] Read(ITensorSource source)
    {
        using var chunk = source.ReadChunk(0, source.ElementCount, ComputeContext.Cpu());
        using var wide = chunk.to(TorchSharp.torch.ScalarType.Float64);
        return wide.data<double>().ToArray();
    }

    /// <summary>float32 arithmetic on bf16 values: within a few float32 steps of the float64 value.</summary>
    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>config.json as the output folder gets it.</summary>
    private JObject ConfigJson(ConfigPlan plan)
    {
        string output = Dir.File($"out-{Guid.NewGuid():N}");
        Directory.CreateDirectory(output);
        Inheritance.ForConfig(plan).SideFiles!.WriteInto(output);
        return JObject.Parse(File.ReadAllText(Path.Combine(output, "config.json")));
    }
}
