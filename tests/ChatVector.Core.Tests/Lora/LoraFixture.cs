using ChatVector.Core.Format;
using ChatVector.Core.Lora;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;

namespace ChatVector.Core.Tests.Lora;

/// <summary>
/// A tiny bf16 LLaMA (hidden 16, intermediate 24, vocabulary 40, 2 layers) with its values, and adapters written by hand
/// in PEFT's layout beside it. Factors are sized so that a delta is a few bf16 steps of the weights, as a fine-tune's is.
/// </summary>
internal sealed class LoraFixture : IDisposable
{
    public const int Hidden = 16, Intermediate = 24, Vocab = 40;
    public const float AScale = 0.1f, BScale = 0.01f;

    private readonly TempDir _dir = new();

    /// <param name="hidden">The model's sizes: the defaults, or others (wider rows reach the product's vector blocks).</param>
    /// <param name="modelType">config.json's model_type when not llama's: "gpt2" makes the weights Conv1D's, stored (in, out), to PEFT.</param>
    public LoraFixture(int hidden = Hidden, int intermediate = Intermediate, int vocab = Vocab, string? modelType = null)
    {
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        ModelPath = System.IO.Path.Combine(_dir.Path, "base");
        Values = new LlamaModelBuilder { Hidden = hidden, Intermediate = intermediate, Vocab = vocab, Layers = 2, Seed = 3 }.Write(ModelPath);
        if (modelType is not null)
        {
            var configPath = System.IO.Path.Combine(ModelPath, "config.json");
            var config = Newtonsoft.Json.Linq.JObject.Parse(File.ReadAllText(configPath));
            config["model_type"] = modelType;
            File.WriteAllText(configPath, config.ToString());
        }
        Model = StoredModel.Open(ModelPath);
    }

    public string ModelPath { get; }
    public StoredModel Model { get; }
    /// <summary>Every weight's values (bf16-exact) by name.</summary>
    public Dictionary<string, float[]> Values { get; }

    public static readonly ComputeContext Cpu = ComputeContext.Cpu();

    /// <summary>Writes an adapter folder and returns its path.</summary>
    public string Adapter(string name, string config, params PeftTensor[] tensors)
    {
        var folder = System.IO.Path.Combine(_dir.Path, name);
        PeftAdapterFolder.Write(folder, config, tensors);
        return folder;
    }

    /// <summary>A linear module's A (r × in) and B (out × r), bf16-exact.</summary>
    public static (PeftTensor A, PeftTensor B) Linear(string module, int rank, long inFeatures, long outFeatures, int seed) => (
        new PeftTensor(PeftAdapterFolder.LoraA(module), [rank, inFeatures], PeftAdapterFolder.Factor(rank, inFeatures, seed, AScale)),
        new PeftTensor(PeftAdapterFolder.LoraB(module), [outFeatures, rank], PeftAdapterFolder.Factor(outFeatures, rank, seed + 1000, BScale)));

    /// <summary>The vectors of the adapter at <paramref name="folder"/> against the base, by the model's tensor name.</summary>
    public Dictionary<string, ITensorSource> Vectors(string folder)
    {
        var adapter = LoraAdapter.Open(folder);
        return LoraVectors.Of(adapter.FitTo(Model), Model, adapter.ProvenanceOn(Model), _ => true).ToDictionary(v => v.Name);
    }

    /// <summary>
    /// The model's tensor plus ratio·vector as a merge computes it (BF16 out, one rounding), read through the export's
    /// byte path in pieces of <paramref name="piece"/> elements, so chunks start and end mid-row.
    /// </summary>
    public ushort[] Merged(ITensorSource vector, double ratio, int piece = 37)
    {
        var target = new StoredTensorSource(Model.Find(vector.Name)!);
        var merged = new MergedTensor(target, [new VectorTerm(vector, ratio)], [], DType.BF16);
        var bits = new ushort[merged.ElementCount];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan());
        for (long first = 0; first < bits.Length; first += piece)
        {
            long count = Math.Min(piece, bits.Length - first);
            merged.CopyBytes(first * 2, bytes.Slice((int)first * 2, (int)count * 2), Cpu);
        }
        return bits;
    }

    /// <summary>Every element of the vector, read in pieces of <paramref name="piece"/> elements.</summary>
    public static float[] Read(ITensorSource vector, int piece = 29)
    {
        var values = new float[vector.ElementCount];
        for (long first = 0; first < values.Length; first += piece)
        {
            long count = Math.Min(piece, values.Length - first);
            using var chunk = vector.ReadChunk(first, count, Cpu);
            chunk.data<float>().CopyTo(values, (int)first);
        }
        return values;
    }

    /// <summary>
    /// Asserts the merge is base + ratio·delta within one rounding: each bf16 result at most one step from the float64
    /// expectation rounded to bf16, and the change is really there (most elements moved by more than a step).
    /// </summary>
    public void AssertMergedWithinOneRounding(string name, ushort[] merged, double[] delta, double ratio)
    {
        var @base = Values[name];
        Xunit.Assert.Equal(@base.Length, merged.Length);
        int moved = 0;
        for (int i = 0; i < merged.Length; i++)
        {
            double expected = @base[i] + ratio * delta[i];
            ushort expectedBits = Bf16.FromFloat((float)expected);
            Xunit.Assert.True(Bf16.UlpDistance(merged[i], expectedBits) <= 1,
                $"{name}[{i}]: got {Bf16.ToFloat(merged[i])}, expected {expected} (base {@base[i]}, delta {delta[i]})");
            if (Bf16.UlpDistance(merged[i], Bf16.FromFloat(@base[i])) > 1) moved++;
        }
        Xunit.Assert.True(moved > merged.Length / 2, $"{name}: only {moved} of {merged.Length} elements moved by more than one bf16 step; the test's delta is too small to tell");
    }

    public void Dispose() => _dir.Dispose();
}
