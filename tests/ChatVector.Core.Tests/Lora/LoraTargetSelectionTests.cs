using ChatVector.Core.Lora;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.Lora;

/// <summary>
/// Which modules an adapter_config.json targets, as PEFT's LoraConfig documents its keys: <c>exclude_modules</c> (a string
/// is a regular expression the whole module name matches; a list matches a name exactly or as its end after a dot) wins
/// over every other key; <c>layers_to_transform</c> keeps a module that a list of target_modules names by its end only
/// when its layer is listed, the layer being the index into the module list <c>layers_pattern</c> names ("layers",
/// "h"), or without one the first index in the name. Each row is a config, a module name and PEFT's answer, worked out
/// by hand from those definitions.
/// </summary>
public class LoraTargetSelectionTests : TempDirTest
{
    private const string Targeted = nameof(LoraModuleSelection.Targeted), NotTargeted = nameof(LoraModuleSelection.NotTargeted), Excluded = nameof(LoraModuleSelection.Excluded);

    /// <summary>Reads a config of PEFT's keys plus <paramref name="keys"/> (JSON members, with ' for ").</summary>
    private LoraAdapterConfig Read(string keys)
    {
        var folder = Path.Combine(Dir.Path, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, LoraAdapterConfig.FileName);
        File.WriteAllText(path, "{ \"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8" + (keys.Length == 0 ? "" : ", " + keys.Replace('\'', '"')) + " }");
        return LoraAdapterConfig.Read(path);
    }

    [Theory]
    // exclude_modules as a list: the whole name, or its end after a dot.
    [InlineData("'target_modules': ['q_proj', 'v_proj'], 'exclude_modules': ['v_proj']", "model.layers.0.self_attn.v_proj", Excluded)]
    [InlineData("'target_modules': ['q_proj', 'v_proj'], 'exclude_modules': ['v_proj']", "model.layers.0.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': ['model.layers.1.self_attn.q_proj']", "model.layers.1.self_attn.q_proj", Excluded)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': ['model.layers.1.self_attn.q_proj']", "model.layers.11.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': ['self_attn.q_proj']", "model.layers.0.self_attn.q_proj", Excluded)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': ['proj']", "model.layers.0.self_attn.q_proj", Targeted)] // "proj" is not a dotted part of q_proj
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': ['layers.1.self_attn.q_proj']", "model.layers.11.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': []", "model.layers.0.self_attn.q_proj", Targeted)]
    // exclude_modules as a string: a regular expression of the whole name, never a suffix.
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': '.*\\\\.1\\\\..*'", "model.layers.1.self_attn.q_proj", Excluded)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': '.*\\\\.1\\\\..*'", "model.layers.11.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': 'q_proj'", "model.layers.0.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': 'model\\\\.layers\\\\.(?P<n>0)\\\\.self_attn\\\\.q_proj'", "model.layers.0.self_attn.q_proj", Excluded)] // Python's named group
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': ''", "model.layers.0.self_attn.q_proj", Targeted)] // empty: excludes nothing
    // Exclusion comes first: over a full name, a regular expression, all-linear, an absent target_modules; an
    // untargeted module it names counts as excluded.
    [InlineData("'target_modules': ['model.layers.0.self_attn.q_proj'], 'exclude_modules': ['q_proj']", "model.layers.0.self_attn.q_proj", Excluded)]
    [InlineData("'target_modules': '.*_proj', 'exclude_modules': ['o_proj']", "model.layers.0.self_attn.o_proj", Excluded)]
    [InlineData("'target_modules': '.*_proj', 'exclude_modules': ['o_proj']", "model.layers.0.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': 'all-linear', 'exclude_modules': '.*\\\\.mlp\\\\..*'", "model.layers.0.mlp.down_proj", Excluded)]
    [InlineData("'target_modules': 'all-linear', 'exclude_modules': '.*\\\\.mlp\\\\..*'", "model.layers.0.self_attn.k_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'exclude_modules': ['v_proj']", "model.layers.0.self_attn.v_proj", Excluded)]
    [InlineData("'exclude_modules': ['v_proj']", "model.layers.0.self_attn.v_proj", Excluded)]
    [InlineData("'exclude_modules': ['v_proj']", "model.layers.0.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'exclude_modules': ['model.layers.0.self_attn.q_proj']", "model.layers.0.self_attn.q_proj", Excluded)]
    // layers_pattern: the index into the module list it names (GPT-2's h, T5's layer inside block), in the order given.
    [InlineData("'target_modules': ['c_attn'], 'layers_to_transform': [1], 'layers_pattern': 'h'", "transformer.h.1.attn.c_attn", Targeted)]
    [InlineData("'target_modules': ['c_attn'], 'layers_to_transform': [1], 'layers_pattern': 'h'", "transformer.h.0.attn.c_attn", NotTargeted)]
    [InlineData("'target_modules': ['c_attn'], 'layers_to_transform': 1, 'layers_pattern': ['h']", "transformer.h.1.attn.c_attn", Targeted)]
    [InlineData("'target_modules': ['q'], 'layers_to_transform': [1], 'layers_pattern': 'layer'", "encoder.block.0.layer.1.SelfAttention.q", Targeted)]
    [InlineData("'target_modules': ['q'], 'layers_to_transform': [1], 'layers_pattern': 'block'", "encoder.block.0.layer.1.SelfAttention.q", NotTargeted)]
    [InlineData("'target_modules': ['q'], 'layers_to_transform': [1]", "encoder.block.0.layer.1.SelfAttention.q", NotTargeted)] // without a pattern: the first index, the block's
    [InlineData("'target_modules': ['q'], 'layers_to_transform': [0]", "encoder.block.0.layer.1.SelfAttention.q", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [2], 'layers_pattern': ['h', 'layers']", "model.layers.2.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['c_attn'], 'layers_to_transform': [1], 'layers_pattern': '(?:layers|h)'", "transformer.h.1.attn.c_attn", Targeted)] // a regular expression
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': 'h'", "model.layers.0.self_attn.q_proj", NotTargeted)] // no h list: no layer
    [InlineData("'target_modules': ['up_proj'], 'layers_to_transform': [1], 'layers_pattern': 'layers'", "model.layers.1.mlp.experts.0.up_proj", Targeted)] // the layer, not the expert
    [InlineData("'target_modules': ['up_proj'], 'layers_to_transform': [0], 'layers_pattern': 'layers'", "model.layers.1.mlp.experts.0.up_proj", NotTargeted)]
    [InlineData("'target_modules': ['up_proj'], 'layers_to_transform': [0]", "model.layers.1.mlp.experts.0.up_proj", NotTargeted)]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': ''", "model.layers.0.self_attn.q_proj", Targeted)] // empty: no pattern
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': []", "model.layers.0.self_attn.q_proj", Targeted)]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': ['']", "model.layers.0.self_attn.q_proj", NotTargeted)] // a list of one empty name is a pattern: '..0.'
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': 'layers'", "layers.0.self_attn.q_proj", NotTargeted)] // the list must follow a dot
    [InlineData("'target_modules': ['layers.0'], 'layers_to_transform': [0]", "model.layers.0", NotTargeted)] // the index must be followed by a dot
    [InlineData("'target_modules': ['model.layers.1.self_attn.q_proj'], 'layers_to_transform': [0], 'layers_pattern': 'layers'", "model.layers.1.self_attn.q_proj", Targeted)] // a full name: no layer filter
    [InlineData("'layers_to_transform': [0]", "model.layers.1.self_attn.q_proj", NotTargeted)] // target_modules absent: PEFT's defaults are a list of names
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [3], 'layers_pattern': 'layers'", "model.layers.\u0663.self_attn.q_proj", Targeted)] // an Arabic-Indic 3 is a digit to Python
    public void A_module_is_targeted_as_PEFT_targets_it(string keys, string module, string expected)
    {
        var config = Read(keys);

        Assert.Equal(expected, config.Select(module).ToString());
        Assert.Equal(expected == Targeted, config.Applies(module));
    }

    [Theory]
    [InlineData("'exclude_modules': 5", "'exclude_modules'")]
    [InlineData("'exclude_modules': [1, 2]", "'exclude_modules'")]
    [InlineData("'exclude_modules': {'q_proj': true}", "'exclude_modules'")]
    [InlineData("'exclude_modules': '(q_proj'", "'(q_proj'", "exclude_modules")]
    [InlineData("'layers_to_transform': [0], 'layers_pattern': 5", "'layers_pattern'")]
    [InlineData("'layers_to_transform': [0], 'layers_pattern': [true]", "'layers_pattern'")]
    [InlineData("'target_modules': ['q_proj'], 'layers_pattern': 'layers'", "'layers_pattern'", "layers_to_transform")] // PEFT: a pattern needs layers
    [InlineData("'target_modules': '.*q_proj', 'layers_pattern': ''", "'layers_pattern'", "regular expression")] // PEFT: given at all, with a regex
    [InlineData("'target_modules': '.*q_proj', 'layers_to_transform': []", "'layers_to_transform'", "regular expression")]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': 'layers)('", "'layers)('", "layers_pattern")]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': '(layers|h)'", "'(layers|h)'", "layers_pattern", "capturing group")]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [3000000000]", "'layers_to_transform'", "3000000000 is not a layer number")]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': [0, '1']", "'layers_to_transform'", "\"1\" is not a layer number")]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': 1.5", "'layers_to_transform'", "not 1.5")]
    [InlineData("'target_modules': ['q_proj'], 'layers_to_transform': 100000000000000000000000", "'layers_to_transform'")]
    [InlineData("'target_modules': 7", "'target_modules'")]
    public void A_malformed_selection_key_is_an_error_naming_the_file_and_the_key(string keys, params string[] named)
    {
        var e = Assert.Throws<LoraAdapterException>(() => Read(keys));

        Assert.Equal(LoraAdapterRule.AdapterConfigInvalid, e.Rule);
        Assert.EndsWith(LoraAdapterConfig.FileName, e.FilePath);
        foreach (var text in named) Assert.Contains(text, e.Message);
    }

    [Fact]
    public void A_layers_pattern_alternation_that_matches_without_the_layer_number_is_an_error_naming_the_file_and_the_module()
    {
        // Python reads 'layers|h' in PEFT's expression as ".*?\.layers" or "h\.(\d+)\.": the first branch finds no number.
        var config = Read("'target_modules': ['q_proj'], 'layers_to_transform': [0], 'layers_pattern': 'layers|h'");

        var e = Assert.Throws<LoraAdapterException>(() => config.Select("model.layers.0.self_attn.q_proj"));

        Assert.Equal(LoraAdapterRule.AdapterConfigInvalid, e.Rule);
        Assert.EndsWith(LoraAdapterConfig.FileName, e.FilePath);
        Assert.Contains("'layers_pattern'", e.Message);
        Assert.Contains("model.layers.0.self_attn.q_proj", e.Message);
        Assert.Equal(LoraModuleSelection.NotTargeted, config.Select("transformer.h.0.attn.q_proj")); // neither branch matches at the start
    }

    [Fact]
    public void An_adapter_leaves_out_excluded_factors_and_names_them_apart_from_the_untargeted_ones()
    {
        string[] modules = ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.mlp.up_proj"];
        var folder = Path.Combine(Dir.Path, "adapter");
        var tensors = modules.SelectMany(m => new[]
        {
            new PeftTensor(PeftAdapterFolder.LoraA(m), [2, 16], PeftAdapterFolder.Factor(2, 16, 1, 0.1f)),
            new PeftTensor(PeftAdapterFolder.LoraB(m), [16, 2], PeftAdapterFolder.Factor(16, 2, 2, 0.01f)),
        });
        PeftAdapterFolder.Write(folder, PeftAdapterFolder.Config(2, 4, ["q_proj", "v_proj"], new Dictionary<string, object?> { ["exclude_modules"] = "model\\.layers\\.1\\..*" }), tensors);

        var adapter = LoraAdapter.Open(folder);

        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"], adapter.Modules.Select(m => m.Module));
        Assert.Equal(["model.layers.1.self_attn.q_proj", "model.layers.1.mlp.up_proj"], adapter.Untargeted);
        Assert.Equal(["model.layers.1.self_attn.q_proj", "model.layers.1.mlp.up_proj"], adapter.Excluded); // up_proj: not targeted either, but excluded first
        var warning = Assert.Single(adapter.Warnings);
        Assert.Contains("the factors of 2 module(s) are left out", warning);
        Assert.Contains("adapter_config.json's exclude_modules names them (model.layers.1.self_attn.q_proj, model.layers.1.mlp.up_proj)", warning);
    }

    [Theory]
    [InlineData("exclude_modules", "exclude_modules names all of them")]
    [InlineData("layers_to_transform", "target_modules and layers_to_transform name none of them")]
    public void An_adapter_none_of_whose_factors_its_config_targets_is_refused_as_PEFT_refuses_it(string key, string why)
    {
        string[] modules = ["model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.v_proj"];
        var folder = Path.Combine(Dir.Path, "untargeted-" + key);
        var tensors = modules.SelectMany(m => new[]
        {
            new PeftTensor(PeftAdapterFolder.LoraA(m), [2, 16], PeftAdapterFolder.Factor(2, 16, 1, 0.1f)),
            new PeftTensor(PeftAdapterFolder.LoraB(m), [16, 2], PeftAdapterFolder.Factor(16, 2, 2, 0.01f)),
        });
        object value = key == "exclude_modules" ? ".*" : new[] { 5 };
        PeftAdapterFolder.Write(folder, PeftAdapterFolder.Config(2, 4, ["q_proj", "v_proj"], new Dictionary<string, object?> { [key] = value }), tensors);

        var e = Assert.Throws<LoraAdapterException>(() => LoraAdapter.Open(folder));
        Assert.Equal(LoraAdapterRule.AdapterConfigInvalid, e.Rule);
        Assert.Contains("adapter_config.json", e.Message);
        Assert.Contains("none of the 2 module(s)", e.Message);
        Assert.Contains(why, e.Message);
    }
}
