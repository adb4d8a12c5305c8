using ChatVector.Core.Lora;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.Lora;

/// <summary>
/// What an adapter's config means (the patterns' matching), and every refusal: each a <see cref="LoraAdapterException"/>
/// with its rule, naming the file and the key or tensor, raised while opening (or fitting), before any value is read.
/// </summary>
public class LoraAdapterTests : IDisposable
{
    private readonly LoraFixture _fixture = new();
    private const string Q0 = "model.layers.0.self_attn.q_proj";

    public void Dispose() => _fixture.Dispose();

    private static string Config(IReadOnlyDictionary<string, object?>? overrides = null) => PeftAdapterFolder.Config(4, 8, ["q_proj"], overrides);

    private static PeftTensor[] QFactors(int rank = 4) { var (a, b) = LoraFixture.Linear(Q0, rank, 16, 16, seed: 1); return [a, b]; }

    /// <summary>Opens (and fits to the base) the adapter; returns the refusal, asserting its rule and that it names what it should.</summary>
    private LoraAdapterException Refusal(LoraAdapterRule rule, string folder, string fileName, params string[] named)
    {
        var e = Assert.Throws<LoraAdapterException>(() => _fixture.Vectors(folder));
        Assert.Equal(rule, e.Rule);
        Assert.Equal(rule.ToString(), e.RuleName);
        Assert.EndsWith(fileName, e.FilePath);
        foreach (var text in named) Assert.Contains(text, e.Message);
        return e;
    }

    [Fact]
    public void Pattern_keys_match_the_end_of_a_module_name_at_a_dot_and_the_first_key_in_the_file_wins()
    {
        var config = new LoraAdapterConfig
        {
            Rank = 8,
            Alpha = 16,
            RankPattern = new Dictionary<string, int> { ["layers.1.self_attn.q_proj"] = 2, ["q_proj"] = 4 },
            AlphaPattern = new Dictionary<string, double> { ["proj"] = 1 },
        };

        Assert.Equal(2, config.RankOf("model.layers.1.self_attn.q_proj"));
        Assert.Equal(4, config.RankOf("model.layers.11.self_attn.q_proj")); // "layers.1." is not the end of "layers.11."
        Assert.Equal(8, config.RankOf("model.layers.1.self_attn.xq_proj")); // no dot before "q_proj"
        Assert.Equal(16.0 / 8, config.ScalingOf("model.layers.0.mlp.up_proj")); // "proj" is not a dotted part of "up_proj"
        Assert.Equal(16.0 / Math.Sqrt(4), (config with { UseRsLora = true }).ScalingOf("model.layers.0.self_attn.q_proj"));
        Assert.True((config with { ModulesToSave = ["lm_head"] }).SavesWhole("lm_head"));
        Assert.False((config with { ModulesToSave = ["head"] }).SavesWhole("lm_head"));
    }

    [Fact]
    public void Dora_is_refused_by_its_config_key_and_by_its_magnitude_tensors()
    {
        var byKey = _fixture.Adapter("dora", Config(new Dictionary<string, object?> { ["use_dora"] = true }), QFactors());
        Refusal(LoraAdapterRule.DoraNotAdditive, byKey, "adapter_config.json", "'use_dora'");

        var magnitude = new PeftTensor($"{PeftAdapterFolder.Prefix}{Q0}.lora_magnitude_vector", [16], new float[16]);
        var byTensor = _fixture.Adapter("dora-tensor", Config(), [.. QFactors(), magnitude]);
        Refusal(LoraAdapterRule.DoraNotAdditive, byTensor, "adapter_model.safetensors", magnitude.Name);
    }

    [Fact]
    public void A_pickled_adapter_is_refused_and_a_folder_without_weights_or_config_is_named()
    {
        var pickled = Path.Combine(Path.GetTempPath(), "cv-lora-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(pickled);
            File.WriteAllText(Path.Combine(pickled, "adapter_config.json"), Config());
            File.WriteAllBytes(Path.Combine(pickled, "adapter_model.bin"), [0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
            Refusal(LoraAdapterRule.PickleAdapterRefused, pickled, "adapter_model.bin", "pickle");

            File.Delete(Path.Combine(pickled, "adapter_model.bin"));
            Refusal(LoraAdapterRule.AdapterWeightsMissing, pickled, Path.GetFileName(pickled), "adapter_model.safetensors");

            File.Delete(Path.Combine(pickled, "adapter_config.json"));
            Refusal(LoraAdapterRule.AdapterConfigMissing, pickled, "adapter_config.json");
        }
        finally { Directory.Delete(pickled, recursive: true); }
    }

    [Fact]
    public void A_config_that_is_not_json_or_holds_a_wrong_kind_of_value_names_the_file_and_the_key()
    {
        Refusal(LoraAdapterRule.AdapterConfigInvalid, _fixture.Adapter("not-json", "{ \"r\": 4,\n  \"lora_alpha\": }", QFactors()), "adapter_config.json", "line 2");
        Refusal(LoraAdapterRule.AdapterConfigInvalid, _fixture.Adapter("r-text", Config(new Dictionary<string, object?> { ["r"] = "four" }), QFactors()), "adapter_config.json", "'r'", "\"four\"");
        Refusal(LoraAdapterRule.AdapterConfigInvalid, _fixture.Adapter("pattern", Config(new Dictionary<string, object?> { ["rank_pattern"] = new Dictionary<string, object> { ["q_proj"] = "2" } }), QFactors()),
            "adapter_config.json", "'rank_pattern'", "'q_proj'");
        Refusal(LoraAdapterRule.AdapterNotLora, _fixture.Adapter("ia3", Config(new Dictionary<string, object?> { ["peft_type"] = "IA3" }), QFactors()), "adapter_config.json", "IA3");
        Refusal(LoraAdapterRule.AdapterFeatureNotSupported, _fixture.Adapter("lora-bias", Config(new Dictionary<string, object?> { ["lora_bias"] = true }), QFactors()), "adapter_config.json", "'lora_bias'");
    }

    [Fact]
    public void Tensor_names_outside_the_layout_or_the_config_are_refused_by_name()
    {
        var withAdapterName = new PeftTensor($"{PeftAdapterFolder.Prefix}{Q0}.lora_A.default.weight", [4, 16], new float[64]);
        Refusal(LoraAdapterRule.AdapterTensorUnknown, _fixture.Adapter("named", Config(), [.. QFactors(), withAdapterName]), "adapter_model.safetensors", withAdapterName.Name);

        var noPrefix = new PeftTensor($"{Q0}.lora_A.weight", [4, 16], new float[64]);
        Refusal(LoraAdapterRule.AdapterTensorUnknown, _fixture.Adapter("no-prefix", Config(), noPrefix), "adapter_model.safetensors", noPrefix.Name);

        var unsaved = new PeftTensor(PeftAdapterFolder.Whole("model.norm.weight"), [16], new float[16]);
        Refusal(LoraAdapterRule.AdapterTensorUnknown, _fixture.Adapter("unsaved", Config(), [.. QFactors(), unsaved]), "adapter_model.safetensors", unsaved.Name, "modules_to_save");
    }

    [Fact]
    public void Factors_that_do_not_make_a_delta_at_the_configs_rank_are_refused()
    {
        var factors = QFactors();
        Refusal(LoraAdapterRule.AdapterTensorMalformed, _fixture.Adapter("a-only", Config(), factors[0]), "adapter_model.safetensors", factors[0].Name, "B factor");
        Refusal(LoraAdapterRule.AdapterTensorMalformed, _fixture.Adapter("rank", Config(), QFactors(rank: 3)), "adapter_model.safetensors", "rank 4", "'r' or 'rank_pattern'");
    }

    [Fact]
    public void An_adapter_that_does_not_fit_the_base_names_each_tensor_and_both_shapes()
    {
        // up_proj is (24, 16); factors for (16, 24), and a module the model does not have.
        var (upA, upB) = LoraFixture.Linear("model.layers.0.mlp.up_proj", 4, 24, 16, seed: 2);
        var (xA, xB) = LoraFixture.Linear("model.layers.0.mlp.extra_proj", 4, 16, 16, seed: 3);
        var folder = _fixture.Adapter("misfit", PeftAdapterFolder.Config(4, 8, ["up_proj", "extra_proj"]), upA, upB, xA, xB);

        Refusal(LoraAdapterRule.AdapterDoesNotFitModel, folder, "adapter_model.safetensors",
            "'model.layers.0.mlp.up_proj.weight': the model's shape is [24, 16], the adapter's [16, 24]", "'model.layers.0.mlp.extra_proj.weight': the model has no such tensor");
    }
}
