using System.Text.Json.Nodes;
using ChatVector.Core.Inference;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Inference;

/// <summary>
/// The tensor forward pass against the plain reference (double-precision loops written from the docs):
/// logits, perplexity and greedy generation, for every supported architecture and rope type.
/// </summary>
public sealed class ForwardPassTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cv-infer-" + Guid.NewGuid().ToString("N"));
    private static readonly long[] Ids = [0, 4, 17, 9, 9, 28, 1, 12, 3, 22, 5, 11];

    public ForwardPassTests() => TestPaths.UseModuleNatives();

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string> Cases => new() { "llama-gqa-tied-llama3", "qwen2-biases-linear", "mistral-mqa-headdim", "llama-bf16" };

    /// <summary>The test models: GQA, tied embeddings, q/k/v biases, both rope scalings, explicit head_dim, bf16 weights.</summary>
    private static RandomLlama Model(string name) => name switch
    {
        // θ = 10000, head_dim 8: wavelengths 6.3, 63, 628, 6283; old 64 with factors 1 and 4: kept, blended, scaled, scaled.
        "llama-gqa-tied-llama3" => new RandomLlama
        {
            Hidden = 32, Tied = true,
            RopeScaling = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64.0 },
        },
        "qwen2-biases-linear" => new RandomLlama
        {
            Architecture = "Qwen2ForCausalLM", Hidden = 32, Heads = 4, KvHeads = 2, Biases = true, Seed = 11,
            RopeScaling = new JsonObject { ["type"] = "linear", ["factor"] = 2.5 },
        },
        "mistral-mqa-headdim" => new RandomLlama { Architecture = "MistralForCausalLM", Heads = 4, KvHeads = 1, HeadDimOverride = 6, RopeTheta = 500, Seed = 3 },
        "llama-bf16" => new RandomLlama { Bf16Weights = true, Seed = 5, Layers = 3 },
        _ => throw new ArgumentException(name),
    };

    private static double[] InvFreq(RandomLlama m)
    {
        var s = m.RopeScaling;
        string? type = (s?["rope_type"] ?? s?["type"])?.GetValue<string>();
        return ReferenceLlama.InverseFrequencies(m.HeadDim, m.RopeTheta, type,
            s?["factor"]?.GetValue<double>() ?? 1, s?["low_freq_factor"]?.GetValue<double>() ?? 1,
            s?["high_freq_factor"]?.GetValue<double>() ?? 4, s?["original_max_position_embeddings"]?.GetValue<double>() ?? 8192);
    }

    /// <param name="queryBlock">Attention query rows per block: 5 splits the 12 test tokens into blocks of 5, 5 and 2.</param>
    private LanguageModel Open(RandomLlama m, bool keepLoaded = false, long? headChunkRows = null, long queryBlock = 5)
    {
        var folder = m.Write(Path.Combine(_dir, Guid.NewGuid().ToString("N")));
        var model = LanguageModel.Open(StoredModel.Open(folder), ComputeContext.Cpu(), keepLoaded);
        if (headChunkRows is { } rows) model.Forward.Weights.HeadChunkRows = rows;
        model.Forward.QueryBlock = queryBlock;
        return model;
    }

    private static float[,] ToArray(torch.Tensor t)
    {
        var flat = t.data<float>().ToArray();
        var result = new float[t.shape[0], t.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_match_the_plain_reference(string name)
    {
        var m = Model(name);
        using var model = Open(m, headChunkRows: 8); // several LM head chunks, the last one short
        using var logits = model.Forward.Logits(Ids);
        var actual = ToArray(logits);
        var expected = ReferenceLlama.Logits(m, Ids, InvFreq(m));
        double scale = expected.Max(row => row.Max(Math.Abs));
        Assert.True(scale > 0.5, $"logits too small to compare meaningfully ({scale})");
        for (int t = 0; t < Ids.Length; t++)
            for (int v = 0; v < m.Vocab; v++)
            {
                double e = expected[t][v], a = actual[t, v];
                Assert.True(Math.Abs(a - e) <= LogitTolerance(e, scale),
                    $"{name}: logit [{t}, {v}] is {a}, the reference {e}");
            }
    }

    /// <summary>
    /// How far a float32 logit may be from the reference: 1e-4 relative, with a floor of 1e-6 of the largest logit for
    /// those near 0. The float32 pass rounds at about 6e-8 per operation, over a few dozen operations per logit, and its
    /// last bits change with the SIMD kernels libtorch picks for the CPU; the bound leaves two orders of magnitude above that.
    /// </summary>
    private static double LogitTolerance(double expected, double scale) => 1e-4 * Math.Max(Math.Abs(expected), 0.01 * scale);

    /// <summary>
    /// Every greedy choice of the reference leads the runner-up by more than both their tolerances together, so a pass
    /// within <see cref="LogitTolerance"/> of the reference picks the same tokens on any CPU. The reference is plain
    /// double arithmetic, so this holds or fails the same everywhere; a near-tie would make the exact comparison
    /// depend on the machine's rounding, and the test model or prompt would need changing.
    /// </summary>
    private static void AssertChoicesAreClear(RandomLlama m, long[] prompt, IReadOnlyList<long> chosen)
    {
        var logits = ReferenceLlama.Logits(m, prompt.Concat(chosen).ToList(), InvFreq(m));
        double scale = logits.Max(row => row.Max(Math.Abs));
        for (int step = 0; step < chosen.Count; step++)
        {
            var ranked = logits[prompt.Length - 1 + step].OrderByDescending(x => x).ToArray();
            double margin = ranked[0] - ranked[1], allowed = LogitTolerance(ranked[0], scale) + LogitTolerance(ranked[1], scale);
            Assert.True(margin > allowed, $"step {step}: the best logit leads by {margin}, within the {allowed} the pass may be off by");
        }
    }

    [Fact]
    public void The_test_models_exercise_every_rope_regime()
    {
        // Guards the theories above against cases that would pass with scaling ignored.
        var plain = ReferenceLlama.InverseFrequencies(8, 10000, null);
        var llama3 = InvFreq(Model("llama-gqa-tied-llama3"));
        Assert.Equal(plain[0], llama3[0]);                                  // short wavelength: kept
        Assert.True(llama3[1] < plain[1] && llama3[1] > plain[1] / 8);      // between: blended
        Assert.Equal(plain[2] / 8, llama3[2], 12);                          // long: divided by the factor
        Assert.Equal(plain[3] / 2.5, InvFreq(Model("qwen2-biases-linear"))[3], 12);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Perplexity_is_the_mean_next_token_nll_of_the_reference(string name)
    {
        var m = Model(name);
        using var model = Open(m, headChunkRows: 7);
        var result = model.Measure(Ids);
        double expected = ReferenceLlama.Nll(ReferenceLlama.Logits(m, Ids, InvFreq(m)), Ids);
        Assert.Equal(Ids.Length, result.Tokens);
        Assert.True(Math.Abs(result.NegativeLogLikelihood - expected) <= 1e-4 * expected, $"NLL {result.NegativeLogLikelihood}, reference {expected}");
        Assert.Equal(Math.Exp(result.NegativeLogLikelihood), result.Perplexity, 12);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Greedy_generation_with_the_cache_matches_recomputing_everything(string name)
    {
        var m = Model(name);
        using var model = Open(m, headChunkRows: 6);
        long[] prompt = [2, 8, 19];
        var generated = model.Generate(prompt, 10);
        var eos = new HashSet<long> { 3, 5 };
        var expected = ReferenceLlama.Greedy(m, prompt, 10, InvFreq(m), eos);
        AssertChoicesAreClear(m, prompt, expected);
        Assert.Equal(expected, generated);
    }

    [Fact]
    public void Streaming_layer_by_layer_gives_exactly_the_numbers_of_a_fully_loaded_pass()
    {
        var m = Model("qwen2-biases-linear");
        var folder = m.Write(Path.Combine(_dir, "both"));
        using var streamed = LanguageModel.Open(StoredModel.Open(folder), ComputeContext.Cpu());
        using var loaded = LanguageModel.Open(StoredModel.Open(folder), ComputeContext.Cpu(), keepLoaded: true);
        streamed.Forward.Weights.HeadChunkRows = loaded.Forward.Weights.HeadChunkRows = 8;
        using var a = streamed.Forward.Logits(Ids);
        using var b = loaded.Forward.Logits(Ids);
        using var b2 = loaded.Forward.Logits(Ids); // the kept weights are reused, not consumed
        Assert.Equal(ToArray(b), ToArray(a));
        Assert.Equal(ToArray(b), ToArray(b2));
        Assert.Equal(loaded.Measure(Ids).NegativeLogLikelihood, streamed.Measure(Ids).NegativeLogLikelihood);
    }

    [Fact]
    public void Generation_stops_after_an_eos_id_and_keeps_it()
    {
        // Every eos candidate makes some prompt stop: search prompts until generation ends early, then check the last id.
        var m = Model("llama-gqa-tied-llama3");
        using var model = Open(m);
        var eos = new HashSet<long> { 3, 5 };
        for (long first = 0; first < m.Vocab; first++)
        {
            var generated = model.Generate([first], 20);
            if (generated.Count >= 20) continue;
            Assert.Contains(generated[^1], eos);
            Assert.DoesNotContain(generated.Take(generated.Count - 1), eos.Contains);
            return;
        }
        Assert.Fail("no prompt produced an eos id; the test model cannot show stopping");
    }

    [Fact]
    public void A_mistral_sliding_window_caps_the_input_length()
    {
        var m = Model("mistral-mqa-headdim");
        var folder = m.Write(Path.Combine(_dir, "window"));
        var configPath = Path.Combine(folder, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["sliding_window"] = 10;
        File.WriteAllText(configPath, config.ToJsonString());
        using var model = LanguageModel.Open(StoredModel.Open(folder), ComputeContext.Cpu());
        Assert.Equal(10, model.Measure(Ids[..10]).Tokens);
        var e = Assert.Throws<InferenceException>(() => model.Measure(Ids));
        Assert.Equal(InferenceProblem.InputTooLong, e.Problem);
        Assert.Contains("sliding_window 10", e.Message);
    }
}
