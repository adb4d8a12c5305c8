using ChatVector.Core.LoraExport;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using Newtonsoft.Json.Linq;
using Xunit;

namespace ChatVector.Core.Tests.LoraExport;

/// <summary>
/// Adapters written from a realistic chat vector, read back by the test kit's own safetensors reader, the weight
/// change B·A recomputed in float64 here and compared with the vector and with a float64 SVD of it done here.
/// </summary>
public sealed class LoraExporterTests : IDisposable
{
    private readonly DeltaModels _models = new();

    public void Dispose() => _models.Dispose();

    private (LoraExportOutcome Outcome, IndependentSafeTensorReader Weights, JObject Config) Export(LoraExportRequest request, CancellationToken cancel = default,
        Action<LoraProgress>? progress = null)
    {
        var plan = LoraPlan.Make(request);
        var outcome = LoraExporter.Export(request, plan, ComputeContext.Cpu(cancel), progress);
        var weights = new IndependentSafeTensorReader(Path.Combine(request.TargetFolder, LoraExporter.WeightsFileName));
        var config = JObject.Parse(File.ReadAllText(Path.Combine(request.TargetFolder, AdapterConfig.FileName)));
        return (outcome, weights, config);
    }

    private static string Module(string tensor) => tensor[..tensor.LastIndexOf('.')];

    /// <summary>scaling · B·A of a linear module, read from the file and the config (scaling = alpha / r with its patterns).</summary>
    private static double[] WeightChange(IndependentSafeTensorReader weights, JObject config, string tensor)
    {
        var module = Module(tensor);
        var a = weights.Tensors[$"base_model.model.{module}.lora_A.weight"];
        var b = weights.Tensors[$"base_model.model.{module}.lora_B.weight"];
        int rank = (int)a.Shape[0];
        Assert.Equal(rank, (int)b.Shape[1]);
        double scaling = Alpha(config, module) / Rank(config, module);
        Assert.Equal(rank, Rank(config, module));
        var product = Float64Spectrum.Product(weights.Values($"base_model.model.{module}.lora_B.weight"), weights.Values($"base_model.model.{module}.lora_A.weight"),
            (int)b.Shape[0], rank, (int)a.Shape[1]);
        return product.Select(v => v * scaling).ToArray();
    }

    private static int Rank(JObject config, string module) => (int?)config["rank_pattern"]![module] ?? (int)config["r"]!;

    private static double Alpha(JObject config, string module) => (double?)config["alpha_pattern"]![module] ?? (double)config["lora_alpha"]!;

    [Theory]
    [InlineData(DeltaModels.QProj, 3)]
    [InlineData(DeltaModels.QProj, 8)]
    [InlineData(DeltaModels.DownProj, 5)]
    public void At_rank_r_the_error_is_that_of_the_discarded_singular_values(string tensor, int rank)
    {
        var (_, weights, config) = Export(_models.Request(_models.Output("a"), new LoraRankRule(rank, null, null)));
        var delta = _models.Delta(tensor);
        var shape = DeltaModels.Layout.Single(t => t.Name == tensor).Shape;
        var change = WeightChange(weights, config, tensor);
        Assert.Equal([rank, shape[1]], weights.Tensors[$"base_model.model.{Module(tensor)}.lora_A.weight"].Shape);
        Assert.Equal([shape[0], rank], weights.Tensors[$"base_model.model.{Module(tensor)}.lora_B.weight"].Shape);
        double error = Math.Sqrt(Float64Spectrum.SquaredDistance(delta, change));
        double optimal = Math.Sqrt(Float64Spectrum.Tail(Float64Spectrum.SquaredSingularValues(delta, shape[0], shape[1]), rank));
        Assert.InRange(error / optimal - 1, -1e-4, 1e-4);
    }

    [Fact]
    public void At_full_rank_the_adapter_reproduces_the_vector_to_float32_rounding()
    {
        var request = _models.Request(_models.Output("full"), new LoraRankRule(48, null, null)) with { Embeddings = EmbeddingMode.Lora };
        var (_, weights, config) = Export(request);
        foreach (var tensor in new[] { DeltaModels.QProj, DeltaModels.DownProj, DeltaModels.LmHead })
        {
            var delta = _models.Delta(tensor);
            var change = WeightChange(weights, config, tensor);
            Assert.True(Float64Spectrum.SquaredDistance(delta, change) <= 1e-11 * Float64Spectrum.SquaredNorm(delta), tensor);
        }
        // An embedding: PEFT adds (B·A)ᵀ, with A rank × vocabulary and B hidden × rank.
        var a = weights.Tensors["base_model.model.model.embed_tokens.lora_embedding_A"];
        var b = weights.Tensors["base_model.model.model.embed_tokens.lora_embedding_B"];
        Assert.Equal([40L, 40L], a.Shape);
        Assert.Equal([48L, 40L], b.Shape);
        var product = Float64Spectrum.Product(weights.Values("base_model.model.model.embed_tokens.lora_embedding_B"),
            weights.Values("base_model.model.model.embed_tokens.lora_embedding_A"), 48, 40, 40);
        var embeddingChange = Float64Spectrum.Transpose(product, 48, 40);
        var embeddingDelta = _models.Delta(DeltaModels.Embedding);
        Assert.True(Float64Spectrum.SquaredDistance(embeddingDelta, embeddingChange) <= 1e-11 * Float64Spectrum.SquaredNorm(embeddingDelta));
    }

    [Fact]
    public void A_singular_value_threshold_keeps_the_values_at_or_above_it()
    {
        var spectrum = Float64Spectrum.SquaredSingularValues(_models.Delta(DeltaModels.QProj), 48, 80).Select(Math.Sqrt).ToArray();
        // Halfway between the 6th and 7th singular value: six kept, whatever float32 does to either.
        double threshold = (spectrum[5] + spectrum[6]) / 2;
        var (outcome, weights, _) = Export(_models.Request(_models.Output("t"), new LoraRankRule(null, threshold, null), selects: n => n == DeltaModels.QProj));
        Assert.Equal(6, weights.Tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape[0]);
        Assert.Equal(6, outcome.Tensors.Single(t => t.Name == DeltaModels.QProj).Rank);
    }

    [Fact]
    public void A_kept_energy_fraction_keeps_the_fewest_directions_that_reach_it()
    {
        var squared = Float64Spectrum.SquaredSingularValues(_models.Delta(DeltaModels.DownProj), 80, 48);
        double total = squared.Sum();
        double ShareOf(int rank) => squared.Take(rank).Sum() / total;
        double fraction = (ShareOf(9) + ShareOf(10)) / 2; // needs 10 directions
        var (outcome, weights, _) = Export(_models.Request(_models.Output("e"), new LoraRankRule(null, null, fraction), selects: n => n == DeltaModels.DownProj));
        Assert.Equal(10, weights.Tensors["base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"].Shape[0]);
        Assert.InRange(outcome.Tensors.Single(t => t.Name == DeltaModels.DownProj).KeptEnergy, fraction, 1);
    }

    [Fact]
    public void Each_tensors_kept_energy_is_reported_and_in_the_metadata()
    {
        var (outcome, weights, _) = Export(_models.Request(_models.Output("m"), new LoraRankRule(4, null, null)));
        var recorded = JObject.Parse(weights.Metadata[LoraExporter.KeptEnergyKey]);
        foreach (var (tensor, shape) in DeltaModels.Layout.Where(t => t.Shape.Length == 2 && !HuggingFaceNames.IsEmbedding(t.Name)))
        {
            var squared = Float64Spectrum.SquaredSingularValues(_models.Delta(tensor), shape[0], shape[1]);
            double expected = squared.Take(4).Sum() / squared.Sum();
            Assert.InRange((double)recorded[tensor]! - expected, -1e-5, 1e-5);
            Assert.InRange(outcome.Tensors.Single(t => t.Name == tensor).KeptEnergy - expected, -1e-5, 1e-5);
        }
    }

    [Fact]
    public void The_config_makes_the_scaling_one_for_every_rank_and_names_the_leaf_modules()
    {
        // Rank 60 is more than any weight has: 48 for the layers, 40 for the vocabulary-sized ones.
        var request = _models.Request(_models.Output("c"), new LoraRankRule(60, null, null)) with { Embeddings = EmbeddingMode.Lora };
        var (_, _, config) = Export(request);
        Assert.Equal("LORA", (string?)config["peft_type"]);
        Assert.Equal("CAUSAL_LM", (string?)config["task_type"]);
        Assert.Equal(48, (int)config["r"]!);
        Assert.Equal(48, (int)config["lora_alpha"]!);
        Assert.Equal(["down_proj", "embed_tokens", "lm_head", "q_proj"], config["target_modules"]!.Values<string>().ToArray());
        Assert.Equal(new JObject { ["lm_head"] = 40, ["model.embed_tokens"] = 40 }.ToString(), config["rank_pattern"]!.ToString());
        Assert.Equal(config["rank_pattern"]!.ToString(), config["alpha_pattern"]!.ToString());
        Assert.False((bool)config["use_rslora"]!);
        Assert.Null(config["modules_to_save"]!.Type == JTokenType.Null ? null : config["modules_to_save"]);
    }

    [Fact]
    public void Include_and_exclude_choose_the_tensors_written()
    {
        var (outcome, weights, config) = Export(_models.Request(_models.Output("s"), new LoraRankRule(4, null, null), selects: n => n.Contains("down_proj")));
        Assert.Equal(["base_model.model.model.layers.0.mlp.down_proj.lora_A.weight", "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"],
            weights.Tensors.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["down_proj"], config["target_modules"]!.Values<string>().ToArray());
        Assert.Single(outcome.Tensors);
    }

    [Fact]
    public void Embeddings_are_saved_whole_by_default_as_the_chat_models_values()
    {
        var (outcome, weights, config) = Export(_models.Request(_models.Output("w"), new LoraRankRule(4, null, null)));
        foreach (var tensor in new[] { DeltaModels.Embedding, DeltaModels.LmHead })
        {
            Assert.Equal("BF16", weights.Tensors["base_model.model." + tensor].DType);
            // base + (chat − base) in float32 is chat exactly: the whole tensor is the chat model's.
            Assert.Equal(TensorBytes.Bf16(_models.Chat[tensor]), weights.Bytes("base_model.model." + tensor).ToArray());
            Assert.Equal(LoraTensorKind.Whole, outcome.Tensors.Single(t => t.Name == tensor).Kind);
        }
        Assert.Equal(["embed_tokens", "lm_head"], config["modules_to_save"]!.Values<string>().ToArray());
        Assert.DoesNotContain("lm_head", config["target_modules"]!.Values<string>());
    }

    [Fact]
    public void Embedding_mode_skip_leaves_them_out()
    {
        var request = _models.Request(_models.Output("k"), new LoraRankRule(4, null, null)) with { Embeddings = EmbeddingMode.Skip };
        var (outcome, weights, config) = Export(request);
        Assert.DoesNotContain(weights.Tensors.Keys, k => k.Contains("embed_tokens") || k.Contains("lm_head"));
        Assert.Equal(JTokenType.Null, config["modules_to_save"]!.Type);
        Assert.Equal(LoraTensorKind.Skipped, outcome.Tensors.Single(t => t.Name == DeltaModels.Embedding).Kind);
    }

    [Fact]
    public void A_vocabulary_mismatch_forces_the_chat_models_whole_tensors_even_in_lora_mode()
    {
        // A chat model with 4 added tokens: Get-ChatVector -SkipMismatched leaves its embedding and head out of the vector.
        var wide = _models.Output("chat-wide");
        var wideValues = DeltaModels.Layout.ToDictionary(t => t.Name, t => t.Name is DeltaModels.Embedding or DeltaModels.LmHead
            ? _models.Chat[t.Name].Concat(Enumerable.Repeat(0.5f, 4 * 48)).ToArray() : _models.Chat[t.Name]);
        ModelFolder.WriteWeights(wide, [DeltaModels.Layout.Select(t => (t.Name, "BF16",
            (t.Name is DeltaModels.Embedding or DeltaModels.LmHead ? [44L, 48L] : t.Shape.Select(d => (long)d).ToArray()), TensorBytes.Bf16(wideValues[t.Name]))).ToList()]);
        var chatModel = StoredModel.Open(wide);
        var pairing = ChatVectorPairing.Pair(StoredModel.Open(_models.BasePath), chatModel, _ => true, skipMismatched: true);
        var vectors = pairing.Vectors.Cast<ITensorSource>().ToList();
        Assert.DoesNotContain(vectors, v => v.Name == DeltaModels.Embedding);
        var skipped = pairing.Vectors.First().Provenance.SkippedTensors;
        var request = _models.Request(_models.Output("v"), new LoraRankRule(4, null, null), vectors) with
        {
            Embeddings = EmbeddingMode.Lora,
            VocabularyMismatches = BaseWeights.VocabularyMismatches(skipped, chatModel),
        };
        var (_, weights, config) = Export(request);
        Assert.Equal([44L, 48L], weights.Tensors["base_model.model." + DeltaModels.Embedding].Shape);
        Assert.Equal(TensorBytes.Bf16(wideValues[DeltaModels.LmHead]), weights.Bytes("base_model.model." + DeltaModels.LmHead).ToArray());
        Assert.Equal(["embed_tokens", "lm_head"], config["modules_to_save"]!.Values<string>().ToArray());
        Assert.DoesNotContain(weights.Tensors.Keys, k => k.Contains("lora_embedding"));
    }

    [Fact]
    public void Norms_go_to_modules_to_save_when_asked_and_biases_are_skipped()
    {
        var request = _models.Request(_models.Output("n"), new LoraRankRule(4, null, null)) with { Norms = NormMode.ModulesToSave };
        var (outcome, weights, config) = Export(request);
        Assert.Equal(TensorBytes.Bf16(_models.Chat[DeltaModels.Norm]), weights.Bytes("base_model.model." + DeltaModels.Norm).ToArray());
        Assert.Contains("input_layernorm", config["modules_to_save"]!.Values<string>());
        Assert.DoesNotContain(weights.Tensors.Keys, k => k.EndsWith(".bias", StringComparison.Ordinal));
        Assert.Equal(LoraTensorKind.Skipped, outcome.Tensors.Single(t => t.Name == DeltaModels.Bias).Kind);
        var plain = Export(_models.Request(_models.Output("n2"), new LoraRankRule(4, null, null)));
        Assert.DoesNotContain(plain.Weights.Tensors.Keys, k => k.Contains("layernorm"));
    }

    [Fact]
    public void A_failure_part_way_leaves_nothing_behind()
    {
        using var cancel = new CancellationTokenSource();
        var target = _models.Output("cancelled");
        var request = _models.Request(target, new LoraRankRule(4, null, null));
        Assert.ThrowsAny<OperationCanceledException>(() =>
            LoraExporter.Export(request, LoraPlan.Make(request), ComputeContext.Cpu(cancel.Token), p => { if (p.Done == 1) cancel.Cancel(); }));
        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_models.Root, ".cancelled*"));
    }

    [Fact]
    public void A_vector_with_non_finite_values_fails_before_the_target_exists()
    {
        var path = _models.Output("nan.safetensors");
        var values = Enumerable.Range(0, 48 * 80).Select(i => i == 17 ? float.NaN : 0.001f * (i % 7)).ToArray();
        SafeTensorsWriter.WriteOne(path, DeltaModels.QProj, "F32", [48, 80], TensorBytes.F32(values));
        var vectors = StoredModel.Open(path).Tensors.Select(t => (ITensorSource)new StoredTensorSource(t)).ToList();
        var target = _models.Output("nan-adapter");
        var request = _models.Request(target, new LoraRankRule(4, null, null), vectors);
        var error = Assert.Throws<InvalidDataException>(() => LoraExporter.Export(request, LoraPlan.Make(request), ComputeContext.Cpu()));
        Assert.Contains(DeltaModels.QProj, error.Message);
        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_models.Root, ".nan-adapter*"));
    }

    [Fact]
    public void An_existing_target_is_replaced_only_with_force()
    {
        var target = _models.Output("again");
        Export(_models.Request(target, new LoraRankRule(2, null, null)));
        var request = _models.Request(target, new LoraRankRule(3, null, null));
        Assert.Throws<IOException>(() => LoraExporter.Export(request, LoraPlan.Make(request), ComputeContext.Cpu()));
        var (_, weights, _) = Export(request with { Force = true });
        Assert.Equal(3, weights.Tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape[0]);
    }

    [Theory]
    [InlineData(0, null, null, "-Rank 0")]
    [InlineData(null, -1.0, null, "-SingularValueThreshold")]
    [InlineData(null, null, 1.5, "-KeepEnergy")]
    [InlineData(null, null, null, "Give -Rank")]
    public void A_rule_that_cannot_choose_a_rank_is_refused(int? rank, double? threshold, double? energy, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => LoraPlan.Make(_models.Request(_models.Output("r"), new LoraRankRule(rank, threshold, energy))));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Without_a_2d_weight_there_is_nothing_to_factor()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            LoraPlan.Make(_models.Request(_models.Output("x"), new LoraRankRule(4, null, null), selects: n => n == DeltaModels.Norm)));
        Assert.Contains("2-D weight", error.Message);
    }

    [Fact]
    public void A_whole_tensor_of_a_saved_vector_without_its_base_is_refused_before_writing()
    {
        var saved = _models.Output("saved.safetensors");
        SafeTensorsWriter.Write(saved, [(DeltaModels.QProj, "F32", [48L, 80L], TensorBytes.F32(_models.Delta(DeltaModels.QProj).Select(v => (float)v).ToArray())),
            (DeltaModels.Embedding, "F32", [40L, 48L], TensorBytes.F32(_models.Delta(DeltaModels.Embedding).Select(v => (float)v).ToArray()))]);
        var vectors = StoredModel.Open(saved).Tensors.Select(t => (ITensorSource)new StoredTensorSource(t)).ToList();
        var request = new LoraExportRequest(_models.Output("y"), vectors, new LoraRankRule(4, null, null), _ => true);
        var error = Assert.Throws<ArgumentException>(() => LoraPlan.Make(request));
        Assert.Contains("-Base", error.Message);
        Assert.Contains(DeltaModels.Embedding, error.Message);
        // Given the base, the saved vector's embedding is saved whole as base + vector: the chat model's values.
        var (_, weights, _) = Export(request with { BaseOf = v => BaseWeights.Of(v, StoredModel.Open(_models.BasePath)) });
        Assert.Equal(TensorBytes.Bf16(_models.Chat[DeltaModels.Embedding]), weights.Bytes("base_model.model." + DeltaModels.Embedding).ToArray());
    }
}
