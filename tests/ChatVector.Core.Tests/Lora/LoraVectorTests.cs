using ChatVector.Core.Lora;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using Xunit;

namespace ChatVector.Core.Tests.Lora;

/// <summary>
/// Adapters written by hand in PEFT's layout become vectors whose values are scaling·B·A (checked against the definition
/// in float64) and merge to base + ratio·scaling·B·A within one rounding.
/// </summary>
public class LoraVectorTests : IDisposable
{
    private readonly LoraFixture _fixture = new();
    private const string Q0 = "model.layers.0.self_attn.q_proj", Down1 = "model.layers.1.mlp.down_proj";

    public void Dispose() => _fixture.Dispose();

    private static void AssertClose(double[] expected, float[] actual, string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6 * Math.Max(1e-3, Math.Abs(expected[i])) + 1e-9,
                $"{name}[{i}]: got {actual[i]}, expected {expected[i]}");
    }

    [Fact]
    public void A_plain_adapter_is_alpha_over_r_times_B_A_under_the_model_weight_names_and_merges_within_one_rounding()
    {
        const int rank = 4;
        const double alpha = 8, ratio = 0.7;
        var (qA, qB) = LoraFixture.Linear(Q0, rank, LoraFixture.Hidden, LoraFixture.Hidden, seed: 1);
        var (dA, dB) = LoraFixture.Linear(Down1, rank, LoraFixture.Intermediate, LoraFixture.Hidden, seed: 2);
        var folder = _fixture.Adapter("plain", PeftAdapterFolder.Config(rank, alpha, ["q_proj", "down_proj"]), qA, qB, dA, dB);

        var vectors = _fixture.Vectors(folder);

        Assert.Equal(new[] { Q0 + ".weight", Down1 + ".weight" }, vectors.Keys);
        foreach (var (module, a, b, inFeatures, outFeatures) in new[] { (Q0, qA, qB, LoraFixture.Hidden, LoraFixture.Hidden), (Down1, dA, dB, LoraFixture.Intermediate, LoraFixture.Hidden) })
        {
            var name = module + ".weight";
            var delta = LoraReference.Delta(a.Values, b.Values, rank, outFeatures, inFeatures, alpha / rank, transposed: false);
            Assert.Equal(new long[] { outFeatures, inFeatures }, vectors[name].Shape);
            AssertClose(delta, LoraFixture.Read(vectors[name]), name);
            _fixture.AssertMergedWithinOneRounding(name, _fixture.Merged(vectors[name], ratio), delta, ratio);
        }
    }

    [Fact]
    public void RsLora_scales_by_alpha_over_the_square_root_of_r()
    {
        const int rank = 4;
        const double alpha = 8;
        var (a, b) = LoraFixture.Linear(Q0, rank, LoraFixture.Hidden, LoraFixture.Hidden, seed: 3);
        var folder = _fixture.Adapter("rslora", PeftAdapterFolder.Config(rank, alpha, ["q_proj"], new Dictionary<string, object?> { ["use_rslora"] = true }), a, b);

        var vector = _fixture.Vectors(folder)[Q0 + ".weight"];

        var delta = LoraReference.Delta(a.Values, b.Values, rank, LoraFixture.Hidden, LoraFixture.Hidden, alpha / Math.Sqrt(rank), transposed: false);
        AssertClose(delta, LoraFixture.Read(vector), "rslora");
        _fixture.AssertMergedWithinOneRounding(Q0 + ".weight", _fixture.Merged(vector, 1.0), delta, 1.0);
    }

    [Fact]
    public void Fan_in_fan_out_factors_give_the_transpose_for_a_weight_stored_in_by_out()
    {
        // In a model whose weights are Conv1D's (model_type gpt2), down_proj (16 × 24) is stored (in, out): in 16, out 24,
        // so A is (r, 16) and B (24, r). PEFT transposes there whatever the flag says (and warns when it says false).
        using var conv1D = new LoraFixture(modelType: "gpt2");
        const int rank = 3;
        var a = new PeftTensor(PeftAdapterFolder.LoraA(Down1), [rank, 16], PeftAdapterFolder.Factor(rank, 16, 4, LoraFixture.AScale));
        var b = new PeftTensor(PeftAdapterFolder.LoraB(Down1), [24, rank], PeftAdapterFolder.Factor(24, rank, 5, LoraFixture.BScale));
        var delta = LoraReference.Delta(a.Values, b.Values, rank, outFeatures: 24, inFeatures: 16, 6.0 / rank, transposed: true);
        foreach (bool flag in new[] { true, false })
        {
            var folder = conv1D.Adapter($"fifo-{flag}", PeftAdapterFolder.Config(rank, 6, ["down_proj"], new Dictionary<string, object?> { ["fan_in_fan_out"] = flag }), a, b);
            var adapter = LoraAdapter.Open(folder).FitTo(conv1D.Model);
            if (flag) Assert.Empty(adapter.Notes);
            else Assert.Equal([$"{adapter.Path}: fan_in_fan_out is false, but {conv1D.Model.Path}'s {Down1} are Conv1D layers, stored (in, out): read as true there, as PEFT does."], adapter.Notes);

            var vector = conv1D.Vectors(folder)[Down1 + ".weight"];

            Assert.Equal(new long[] { 16, 24 }, vector.Shape);
            AssertClose(delta, LoraFixture.Read(vector), "fan_in_fan_out");
            conv1D.AssertMergedWithinOneRounding(Down1 + ".weight", conv1D.Merged(vector, 0.5), delta, 0.5);
        }
        // GPT-2's lm_head is an nn.Linear even in a Conv1D model: B·A as it is, whatever the flag says.
        var (headA, headB) = LoraFixture.Linear("lm_head", rank, LoraFixture.Hidden, LoraFixture.Vocab, seed: 6);
        var head = conv1D.Adapter("fifo-head", PeftAdapterFolder.Config(rank, 6, ["lm_head"], new Dictionary<string, object?> { ["fan_in_fan_out"] = true }), headA, headB);
        AssertClose(LoraReference.Delta(headA.Values, headB.Values, rank, LoraFixture.Vocab, LoraFixture.Hidden, 6.0 / rank, transposed: false),
            LoraFixture.Read(conv1D.Vectors(head)["lm_head.weight"]), "lm_head of a Conv1D model");

        // The same factors on a llama model (nn.Linear, stored (out, in) = 16 × 24): B·A is 24 × 16, which PEFT cannot load.
        var onLinear = _fixture.Adapter("fifo-linear-misfit", PeftAdapterFolder.Config(rank, 6, ["down_proj"], new Dictionary<string, object?> { ["fan_in_fan_out"] = true }), a, b);
        Assert.Throws<LoraAdapterException>(() => _fixture.Vectors(onLinear));
    }

    [Fact]
    public void Fan_in_fan_out_on_a_weight_stored_out_by_in_is_ignored_as_PEFT_ignores_it_for_nn_Linear()
    {
        // q_proj is square (16 × 16) in a llama model: PEFT's nn.Linear sets fan_in_fan_out to False, so the change is B·A.
        const int rank = 3;
        var (a, b) = LoraFixture.Linear(Q0, rank, LoraFixture.Hidden, LoraFixture.Hidden, seed: 12);
        var folder = _fixture.Adapter("fifo-linear", PeftAdapterFolder.Config(rank, 6, ["q_proj"], new Dictionary<string, object?> { ["fan_in_fan_out"] = true }), a, b);

        var vector = _fixture.Vectors(folder)[Q0 + ".weight"];

        AssertClose(LoraReference.Delta(a.Values, b.Values, rank, LoraFixture.Hidden, LoraFixture.Hidden, 6.0 / rank, transposed: false), LoraFixture.Read(vector), "fan_in_fan_out on nn.Linear");
        Assert.Single(LoraAdapter.Open(folder).FitTo(_fixture.Model).Notes); // PEFT's warning, kept for the cmdlets
    }

    [Theory]
    [InlineData("q_proj", null, "model.layers.0.self_attn.q_proj,model.layers.1.self_attn.q_proj")]
    [InlineData("q_proj,v_proj", "[1]", "model.layers.1.self_attn.q_proj,model.layers.1.self_attn.v_proj")]
    [InlineData("q_proj,v_proj", "0", "model.layers.0.self_attn.q_proj,model.layers.0.self_attn.v_proj")]
    [InlineData("regex:.*\\.v_proj", null, "model.layers.0.self_attn.v_proj,model.layers.1.self_attn.v_proj")]
    [InlineData("model.layers.1.self_attn.q_proj,v_proj", "[0]", "model.layers.0.self_attn.v_proj,model.layers.1.self_attn.q_proj")] // a full name: no layer filter, as in PEFT
    [InlineData("q_proj", "[]", "model.layers.0.self_attn.q_proj,model.layers.1.self_attn.q_proj")] // an empty list restricts nothing
    [InlineData("regex:ALL-LINEAR", null, "model.layers.0.self_attn.q_proj,model.layers.0.self_attn.v_proj,model.layers.1.self_attn.q_proj,model.layers.1.self_attn.v_proj")]
    [InlineData("regex:(?P<layer>model\\.layers\\.1)\\.self_attn\\.(?:q|v)_proj", null, "model.layers.1.self_attn.q_proj,model.layers.1.self_attn.v_proj")] // Python's named group, as PEFT reads it
    public void Factors_of_modules_the_config_does_not_target_are_left_out_as_PEFT_leaves_them(string targets, string? layers, string expected)
    {
        var modules = new[] { "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj" };
        var factors = modules.SelectMany((m, i) => { var (a, b) = LoraFixture.Linear(m, 2, LoraFixture.Hidden, LoraFixture.Hidden, seed: 30 + i); return new[] { a, b }; }).ToArray();
        var overrides = new Dictionary<string, object?>
        {
            ["target_modules"] = targets.StartsWith("regex:", StringComparison.Ordinal) ? targets["regex:".Length..] : targets.Split(','),
        };
        if (layers is not null) overrides["layers_to_transform"] = layers == "[]" ? Array.Empty<int>() : layers.StartsWith('[') ? new[] { int.Parse(layers.Trim('[', ']')) } : int.Parse(layers);
        var folder = _fixture.Adapter($"targets-{Math.Abs(StringComparer.Ordinal.GetHashCode(targets + layers))}", PeftAdapterFolder.Config(2, 4, ["q_proj"], overrides), factors);

        var adapter = LoraAdapter.Open(folder);

        Assert.Equal(expected.Split(','), adapter.Modules.Select(m => m.Module));
        Assert.Equal(modules.Except(expected.Split(',')), adapter.Untargeted);
        Assert.Equal(expected.Split(',').Select(m => m + ".weight"), _fixture.Vectors(folder).Keys);
    }

    [Fact]
    public void A_regex_target_with_layers_is_refused_and_an_untargeted_module_is_not_checked_as_PEFT_does()
    {
        var (a, b) = LoraFixture.Linear(Q0, 2, LoraFixture.Hidden, LoraFixture.Hidden, seed: 40);
        var regexWithLayers = _fixture.Adapter("regex-layers", PeftAdapterFolder.Config(2, 4, ["q_proj"], new Dictionary<string, object?> { ["target_modules"] = ".*q_proj", ["layers_to_transform"] = new[] { 0 } }), a, b);
        Assert.Contains("layers_to_transform", Assert.Throws<LoraAdapterException>(() => LoraAdapter.Open(regexWithLayers)).Message);
        // v_proj's factors are of rank 3 where the config says 2: PEFT never loads them, so they refuse nothing.
        var (vA, vB) = LoraFixture.Linear("model.layers.0.self_attn.v_proj", 3, LoraFixture.Hidden, LoraFixture.Hidden, seed: 41);
        var stray = _fixture.Adapter("stray-rank", PeftAdapterFolder.Config(2, 4, ["q_proj"]), a, b, vA, vB);
        Assert.Equal(["model.layers.0.self_attn.v_proj"], LoraAdapter.Open(stray).Untargeted);
    }

    [Fact]
    public void Rank_and_alpha_patterns_give_each_module_its_own_scaling_the_first_matching_key_winning()
    {
        const string q1 = "model.layers.1.self_attn.q_proj", v0 = "model.layers.0.self_attn.v_proj";
        var (q0A, q0B) = LoraFixture.Linear(Q0, 4, LoraFixture.Hidden, LoraFixture.Hidden, seed: 6);
        var (q1A, q1B) = LoraFixture.Linear(q1, 2, LoraFixture.Hidden, LoraFixture.Hidden, seed: 7);
        var (vA, vB) = LoraFixture.Linear(v0, 4, LoraFixture.Hidden, LoraFixture.Hidden, seed: 8);
        var config = PeftAdapterFolder.Config(4, 8, ["q_proj", "v_proj"], new Dictionary<string, object?>
        {
            ["rank_pattern"] = new Dictionary<string, int> { ["model.layers.1.self_attn.q_proj"] = 2 },
            ["alpha_pattern"] = new Dictionary<string, double> { ["layers.1.self_attn.q_proj"] = 5, ["q_proj"] = 6 },
        });
        var folder = _fixture.Adapter("patterns", config, q0A, q0B, q1A, q1B, vA, vB);

        var vectors = _fixture.Vectors(folder);

        // q_proj of layer 0: r 4, alpha 6 (the q_proj key); layer 1: r 2, alpha 5 (its own keys); v_proj: the defaults.
        foreach (var (module, a, b, rank, scaling) in new[] { (Q0, q0A, q0B, 4, 6.0 / 4), (q1, q1A, q1B, 2, 5.0 / 2), (v0, vA, vB, 4, 8.0 / 4) })
        {
            var delta = LoraReference.Delta(a.Values, b.Values, rank, LoraFixture.Hidden, LoraFixture.Hidden, scaling, transposed: false);
            AssertClose(delta, LoraFixture.Read(vectors[module + ".weight"]), module);
            _fixture.AssertMergedWithinOneRounding(module + ".weight", _fixture.Merged(vectors[module + ".weight"], 1.0), delta, 1.0);
        }
    }

    [Fact]
    public void Embedding_factors_give_B_A_transposed_one_row_per_token()
    {
        const string embed = "model.embed_tokens";
        const int rank = 4;
        var a = new PeftTensor(PeftAdapterFolder.EmbeddingA(embed), [rank, LoraFixture.Vocab], PeftAdapterFolder.Factor(rank, LoraFixture.Vocab, 9, LoraFixture.AScale));
        var b = new PeftTensor(PeftAdapterFolder.EmbeddingB(embed), [LoraFixture.Hidden, rank], PeftAdapterFolder.Factor(LoraFixture.Hidden, rank, 10, LoraFixture.BScale));
        var folder = _fixture.Adapter("embedding", PeftAdapterFolder.Config(rank, 16, ["embed_tokens"]), a, b);

        var vector = _fixture.Vectors(folder)[embed + ".weight"];

        var delta = LoraReference.Delta(a.Values, b.Values, rank, outFeatures: LoraFixture.Hidden, inFeatures: LoraFixture.Vocab, 16.0 / rank, transposed: true);
        Assert.Equal(new long[] { LoraFixture.Vocab, LoraFixture.Hidden }, vector.Shape);
        AssertClose(delta, LoraFixture.Read(vector), "embedding");
        _fixture.AssertMergedWithinOneRounding(embed + ".weight", _fixture.Merged(vector, 1.0), delta, 1.0);
    }

    [Fact]
    public void A_module_saved_whole_replaces_the_models_tensor_at_ratio_one_and_is_saved_minus_base_otherwise()
    {
        const string head = "lm_head.weight";
        var saved = _fixture.Values[head].Select((v, i) => Bf16.ToFloat(Bf16.FromFloat(v + (i % 7 - 3) * 0.004f))).ToArray();
        var (a, b) = LoraFixture.Linear(Q0, 2, LoraFixture.Hidden, LoraFixture.Hidden, seed: 11);
        var folder = _fixture.Adapter("saved", PeftAdapterFolder.Config(2, 2, ["q_proj"], new Dictionary<string, object?> { ["modules_to_save"] = new[] { "lm_head" } }),
            a, b, new PeftTensor(PeftAdapterFolder.Whole(head), [LoraFixture.Vocab, LoraFixture.Hidden], saved));

        var vectors = _fixture.Vectors(folder);

        // Layers the adapter does not touch have no vector (they pass through a merge); the saved module has one.
        Assert.Equal(new[] { Q0 + ".weight", head }, vectors.Keys);
        Assert.Equal(saved.Select(Bf16.FromFloat), _fixture.Merged(vectors[head], 1.0));
        var difference = saved.Select((s, i) => (double)s - _fixture.Values[head][i]).ToArray();
        _fixture.AssertMergedWithinOneRounding(head, _fixture.Merged(vectors[head], 0.5), difference, 0.5);
    }
}
