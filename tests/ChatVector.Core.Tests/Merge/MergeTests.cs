using Xunit;
using System.Buffers.Binary;
using ChatVector.Core.Export;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Tests.Merge;

public class MergeTests
{
    [Theory]
    [InlineData(1.0, false)]
    [InlineData(0.5, false)]
    [InlineData(0.5, true)]
    public void Every_merged_tensor_matches_an_independent_float32_computation_within_one_ulp(double ratio, bool tiedCp)
    {
        using var trio = new Trio(tiedCp);
        var plan = trio.Plan(ratio);
        Trio.Export(trio.Output("merged"), plan.Outputs);

        var written = IndependentSafeTensorReader.ReadFolder(trio.Output("merged"));
        Assert.Equal(trio.Cp.Keys.Order(), written.Keys.Order());
        int compared = 0;
        foreach (var (name, cpValues) in trio.Cp)
        {
            var bytes = written[name].File.Bytes(name);
            int sharedRows = name.Contains("embed_tokens") || name.Contains("lm_head") ? trio.Vocab * 16 : cpValues.Length;
            for (int i = 0; i < cpValues.Length; i++)
            {
                var actual = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2));
                var expected = i < sharedRows
                    ? Trio.Expected(cpValues[i], trio.Chat[name][i], trio.Base[name][i], ratio)
                    : Bf16.FromFloat(cpValues[i]); // extended vocabulary rows are kept
                Assert.True(Bf16.UlpDistance(actual, expected) <= 1, $"{name}[{i}]: {Bf16.ToFloat(actual)} vs {Bf16.ToFloat(expected)}");
                compared++;
            }
        }
        Assert.True(compared > 5_000, $"{compared} values compared");
    }

    [Fact]
    public void Tensors_without_a_vector_pass_through_bit_identical()
    {
        using var trio = new Trio();
        var pairing = trio.Pair(name => name.Contains("layers.0."));
        var plan = MergePlanner.Plan(new MergeRequest(StoredModel.Open(trio.CpPath), pairing.Vectors.Select(v => new VectorInput(v, 1, v.Provenance)).ToList()));
        Trio.Export(trio.Output("merged"), plan.Outputs);

        var written = IndependentSafeTensorReader.ReadFolder(trio.Output("merged"));
        foreach (var name in trio.Cp.Keys.Where(n => !n.Contains("layers.0.")))
            Assert.True(written[name].File.Bytes(name).SequenceEqual(TensorBytes.Bf16(trio.Cp[name])), name);
        Assert.IsType<StoredTensorSource>(plan.Outputs.Single(o => o.Name == "model.norm.weight"));
    }

    [Fact]
    public void Extended_vocabulary_keeps_new_rows_and_says_so()
    {
        using var trio = new Trio(extraCpRows: 8);
        var plan = trio.Plan();
        Assert.Contains(plan.Notes, n => n.Contains("model.embed_tokens.weight") && n.Contains("extended vocabulary"));
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void SkipEmbedding_leaves_embedding_and_head_as_the_models()
    {
        using var trio = new Trio();
        var plan = trio.Plan(skipEmbedding: true);
        Assert.IsType<StoredTensorSource>(plan.Outputs.Single(o => o.Name == "model.embed_tokens.weight"));
        Assert.IsType<StoredTensorSource>(plan.Outputs.Single(o => o.Name == "lm_head.weight"));
        Assert.IsType<MergedTensor>(plan.Outputs.Single(o => o.Name == "model.layers.1.mlp.up_proj.weight"));
    }

    [Fact]
    public void Special_token_rows_are_the_chat_models_rows()
    {
        using var trio = new Trio();
        var plan = trio.Plan(specialTokens: new Dictionary<long, long> { [45] = 3, [2] = 7 });
        Trio.Export(trio.Output("merged"), plan.Outputs);
        var written = IndependentSafeTensorReader.ReadFolder(trio.Output("merged"));
        foreach (var name in new[] { "model.embed_tokens.weight", "lm_head.weight" })
        {
            var values = written[name].File.Values(name);
            for (int c = 0; c < 16; c++)
            {
                Assert.Equal(trio.Chat[name][3 * 16 + c], values[45 * 16 + c]);
                Assert.Equal(trio.Chat[name][7 * 16 + c], values[2 * 16 + c]);
            }
        }
    }

    [Fact]
    public void Special_token_outside_the_vocabulary_is_a_problem_not_a_wrong_result()
    {
        using var trio = new Trio();
        var plan = trio.Plan(specialTokens: new Dictionary<long, long> { [4000] = 3 });
        Assert.Contains(plan.Problems, p => p.Contains("4000"));
    }

    [Fact]
    public void Tied_model_has_no_lm_head_and_the_head_vector_is_not_applied()
    {
        using var trio = new Trio(tiedCp: true);
        var plan = trio.Plan();
        Assert.DoesNotContain(plan.Outputs, o => o.Name == "lm_head.weight");
        Assert.Empty(plan.UnusedVectors);
        Assert.Contains(plan.Notes, n => n.Contains("lm_head.weight") && n.Contains("ties"));
    }

    [Fact]
    public void A_saved_vector_gives_bit_identical_results_to_the_live_pipeline()
    {
        using var trio = new Trio();
        var vectors = trio.Pair().Vectors;
        Trio.Export(trio.Output("vector"), vectors, metadata: vectors[0].Provenance.ToMetadata());
        var saved = StoredModel.Open(trio.Output("vector"));
        Assert.All(saved.Tensors, t => Assert.Equal(Core.Format.DType.F32, t.Info.DType));
        Assert.Equal(Newtonsoft.Json.JsonConvert.ToString(Trio.Template), VectorProvenance.FromMetadata(saved.Files[0].Metadata)!.ChatTemplateJson);

        var cp = StoredModel.Open(trio.CpPath);
        var live = MergePlanner.Plan(new MergeRequest(cp, vectors.Select(v => new VectorInput(v, 0.5, v.Provenance)).ToList()));
        var fromDisk = MergePlanner.Plan(new MergeRequest(cp, saved.Tensors.Select(t => new VectorInput(new StoredTensorSource(t), 0.5, null)).ToList()));
        Trio.Export(trio.Output("live"), live.Outputs);
        Trio.Export(trio.Output("disk"), fromDisk.Outputs);
        foreach (var file in Directory.GetFiles(trio.Output("live"), "*.safetensors"))
        {
            var a = new IndependentSafeTensorReader(file);
            var b = new IndependentSafeTensorReader(Path.Combine(trio.Output("disk"), Path.GetFileName(file)));
            foreach (var name in a.Tensors.Keys) Assert.True(a.Bytes(name).SequenceEqual(b.Bytes(name)), name);
        }
    }

    [Fact]
    public void Several_vectors_with_their_own_ratios_sum_before_one_rounding()
    {
        using var trio = new Trio();
        var vectors = trio.Pair(n => n == "model.norm.weight").Vectors;
        var cp = StoredModel.Open(trio.CpPath);
        var plan = MergePlanner.Plan(new MergeRequest(cp, [new VectorInput(vectors[0], 0.25, null), new VectorInput(vectors[0], 0.5, null)]));
        Trio.Export(trio.Output("merged"), plan.Outputs);
        var values = IndependentSafeTensorReader.ReadFolder(trio.Output("merged"))["model.norm.weight"];
        var bytes = values.File.Bytes("model.norm.weight");
        var name = "model.norm.weight";
        for (int i = 0; i < trio.Cp[name].Length; i++)
        {
            float v = trio.Chat[name][i] - trio.Base[name][i];
            var expected = Bf16.FromFloat(trio.Cp[name][i] + 0.25f * v + 0.5f * v);
            Assert.True(Bf16.UlpDistance(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2)), expected) <= 1);
        }
    }

    [Theory]
    [InlineData(Core.Format.DType.F32)]
    [InlineData(Core.Format.DType.F16)]
    public void An_output_dtype_rounds_once_to_that_type(Core.Format.DType dtype)
    {
        using var trio = new Trio();
        var cp = StoredModel.Open(trio.CpPath);
        var vectors = trio.Pair(n => n == "model.layers.0.mlp.up_proj.weight").Vectors;
        var plan = MergePlanner.Plan(new MergeRequest(cp, vectors.Select(v => new VectorInput(v, 0.5, null)).ToList(), OutputDType: dtype));
        Assert.All(plan.Outputs, o => Assert.Equal(dtype, o.DType));
        Trio.Export(trio.Output("typed"), plan.Outputs);
        var written = IndependentSafeTensorReader.ReadFolder(trio.Output("typed"));
        const string name = "model.layers.0.mlp.up_proj.weight";
        var values = written[name].File.Values(name);
        for (int i = 0; i < values.Length; i++)
        {
            float exact = trio.Cp[name][i] + 0.5f * (trio.Chat[name][i] - trio.Base[name][i]);
            Assert.Equal(dtype == Core.Format.DType.F32 ? exact : (double)(float)(Half)exact, values[i]);
        }
        Assert.Equal(trio.Cp["model.norm.weight"].Select(f => (double)f), written["model.norm.weight"].File.Values("model.norm.weight"));
    }

    /// <summary>
    /// cp + r·v with a ratio whose products are inexact: one rounding of the exact value (a fused multiply-add), checked in
    /// integer arithmetic. libtorch's add_(v, alpha) fused it only on CPUs with AVX2, so the bytes depended on the machine.
    /// </summary>
    [Theory]
    [InlineData(Core.Format.DType.F32)]
    [InlineData(Core.Format.DType.F64)]
    public void A_ratio_other_than_one_adds_its_product_with_one_rounding(Core.Format.DType dtype)
    {
        const double ratio = 0.3;
        using var trio = new Trio();
        const string name = "model.layers.0.mlp.up_proj.weight";
        var cp = StoredModel.Open(trio.CpPath);
        var plan = MergePlanner.Plan(new MergeRequest(cp, trio.Pair(n => n == name).Vectors.Select(v => new VectorInput(v, ratio, null)).ToList(), OutputDType: dtype));
        Trio.Export(trio.Output("fused"), plan.Outputs);
        var values = IndependentSafeTensorReader.ReadFolder(trio.Output("fused"))[name].File.Values(name);
        int productRoundedFirstDiffers = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float model = trio.Cp[name][i], vector = trio.Chat[name][i] - trio.Base[name][i];
            if (dtype == Core.Format.DType.F32)
            {
                Assert.True(ExactRounding.IsFusedSingle((float)values[i], vector, (float)ratio, model), $"[{i}]: {values[i]}");
                if ((float)values[i] != model + (float)ratio * vector) productRoundedFirstDiffers++;
            }
            else
            {
                // An F64 merge widens the vector, chat − base in float32 (the vector's own type), and the ratio as given.
                Assert.True(ExactRounding.IsFusedDouble(values[i], vector, ratio, model), $"[{i}]: {values[i]}");
                if (values[i] != model + ratio * vector) productRoundedFirstDiffers++;
            }
        }
        // The data tells the two roundings apart, so a merge that rounded the product first would fail above.
        Assert.True(productRoundedFirstDiffers > 0, "no element where rounding the product first changes the sum");
    }

    /// <summary>
    /// A float64 merge written as BF16: its F64 result rounded to float32, then to bf16 to nearest even, and every NaN
    /// 0xFFFF, whatever the CPU (libtorch wrote 0x7FC0 for NaN with its portable kernels and 0xFFFF with AVX2).
    /// </summary>
    [Fact]
    public void A_float64_merge_written_as_bf16_rounds_through_float32_and_writes_one_nan_pattern()
    {
        using var trio = new Trio(); // loads libtorch
        var random = new Random(8);
        double[] Draw() => Enumerable.Range(0, 300).Select(_ => random.NextDouble() - 0.5).ToArray();
        double[] cpValues = Draw(), chatValues = Draw(), baseValues = Draw();
        int[] nanAt = [0, 7, 150, 299]; // the vector loop's start and middle, and the tail
        foreach (int i in nanAt) cpValues[i] = double.NaN;
        string File(string name, double[] values)
        {
            var path = trio.Output(name + ".safetensors");
            SafeTensorsWriter.Write(path, [("x", "F64", [values.Length], ValueBytes.Of(values))]);
            return path;
        }
        var cp = StoredModel.Open(File("cp64", cpValues));
        var vectors = ChatVectorPairing.Pair(StoredModel.Open(File("base64", baseValues)), StoredModel.Open(File("chat64", chatValues)), _ => true).Vectors;
        IndependentSafeTensorReader Merged(Core.Format.DType dtype)
        {
            var plan = MergePlanner.Plan(new MergeRequest(cp, vectors.Select(v => new VectorInput(v, 0.3, null)).ToList(), OutputDType: dtype));
            var target = trio.Output(dtype + ".safetensors");
            ModelExporter.Export(new ExportRequest(target, plan.Outputs, Core.Format.ByteSize.Parse("1MB"), null, AllowNonFinite: true), ComputeContext.Cpu());
            return new IndependentSafeTensorReader(target);
        }
        var wide = Merged(Core.Format.DType.F64).Values("x");
        var bytes = Merged(Core.Format.DType.BF16).Bytes("x");
        for (int i = 0; i < wide.Length; i++)
        {
            var actual = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2));
            Assert.Equal(nanAt.Contains(i) ? (ushort)0xFFFF : Bf16.FromFloat((float)wide[i]), actual);
        }
    }

    [Fact]
    public void Side_files_carry_the_chat_template_eos_token_and_a_model_card()
    {
        using var trio = new Trio();
        var plan = trio.Plan(0.5);
        var sideFiles = new OutputSideFiles(StoredModel.Open(trio.CpPath), plan.Recipe.TemplateOrigin, plan.Recipe.ToModelCard());
        Trio.Export(trio.Output("merged"), plan.Outputs, sideFiles: sideFiles, metadata: new Dictionary<string, string> { [MergeRecipe.MetadataKey] = plan.Recipe.ToJson() });

        var tokenizer = JObject.Parse(File.ReadAllText(Path.Combine(trio.Output("merged"), "tokenizer_config.json")));
        Assert.Equal(Trio.Template, (string?)tokenizer["chat_template"]);
        Assert.Equal("<|end|>", (string?)tokenizer["eos_token"]);
        Assert.Equal(2048, (int)tokenizer["model_max_length"]!); // the cp's other settings stay
        Assert.True(File.Exists(Path.Combine(trio.Output("merged"), "config.json")));
        Assert.True(File.Exists(Path.Combine(trio.Output("merged"), "generation_config.json")));
        Assert.Contains("ratio 0.5", File.ReadAllText(Path.Combine(trio.Output("merged"), "README.md")));
        var index = JObject.Parse(File.ReadAllText(Path.Combine(trio.Output("merged"), ModelIndex.FileName)));
        foreach (var shard in ((JObject)index["weight_map"]!).Properties().Select(p => (string)p.Value!).Distinct())
        {
            var reader = new IndependentSafeTensorReader(Path.Combine(trio.Output("merged"), shard));
            Assert.Equal("pt", reader.Metadata["format"]);
            Assert.Contains("chat_vector", reader.Metadata[MergeRecipe.MetadataKey]);
        }
    }
}
