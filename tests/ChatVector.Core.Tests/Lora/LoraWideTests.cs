using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using Xunit;

namespace ChatVector.Core.Tests.Lora;

/// <summary>
/// Adapters on a model whose rows are wider than the LoRA product's vector blocks (32 columns) and not a multiple of
/// them, with odd numbers of rows: every layout's delta (plain, fan_in_fan_out, embedding) against scaling·B·A in float64,
/// read in pieces that start mid-row and in pieces of several rows.
/// </summary>
public sealed class LoraWideTests : IDisposable
{
    private const int Hidden = 48, Intermediate = 72, Vocab = 41, Rank = 5;
    private const string Q0 = "model.layers.0.self_attn.q_proj", Down1 = "model.layers.1.mlp.down_proj", Embed = "model.embed_tokens";
    private readonly LoraFixture _fixture = new(Hidden, Intermediate, Vocab);

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Plain_transposed_and_embedding_deltas_are_scaling_B_A()
    {
        var (qA, qB) = LoraFixture.Linear(Q0, Rank, Hidden, Hidden, seed: 21);
        var (dA, dB) = LoraFixture.Linear(Down1, Rank, Intermediate, Hidden, seed: 22);
        var eA = new PeftTensor(PeftAdapterFolder.EmbeddingA(Embed), [Rank, Vocab], PeftAdapterFolder.Factor(Rank, Vocab, 23, LoraFixture.AScale));
        var eB = new PeftTensor(PeftAdapterFolder.EmbeddingB(Embed), [Hidden, Rank], PeftAdapterFolder.Factor(Hidden, Rank, 24, LoraFixture.BScale));
        var plain = _fixture.Vectors(_fixture.Adapter("wide", PeftAdapterFolder.Config(Rank, 10, ["q_proj", "down_proj", "embed_tokens"]), qA, qB, dA, dB, eA, eB));
        Check(plain[Q0 + ".weight"], LoraReference.Delta(qA.Values, qB.Values, Rank, Hidden, Hidden, 2.0, transposed: false), "q_proj");
        Check(plain[Down1 + ".weight"], LoraReference.Delta(dA.Values, dB.Values, Rank, Hidden, Intermediate, 2.0, transposed: false), "down_proj");
        Check(plain[Embed + ".weight"], LoraReference.Delta(eA.Values, eB.Values, Rank, outFeatures: Hidden, inFeatures: Vocab, 2.0, transposed: true), "embedding");

        // down_proj (48 × 72) of a model of Conv1D weights (model_type gpt2), stored (in, out): in 48, out 72.
        using var conv1D = new LoraFixture(Hidden, Intermediate, Vocab, modelType: "gpt2");
        var fA = new PeftTensor(PeftAdapterFolder.LoraA(Down1), [Rank, Hidden], PeftAdapterFolder.Factor(Rank, Hidden, 25, LoraFixture.AScale));
        var fB = new PeftTensor(PeftAdapterFolder.LoraB(Down1), [Intermediate, Rank], PeftAdapterFolder.Factor(Intermediate, Rank, 26, LoraFixture.BScale));
        var transposed = conv1D.Vectors(conv1D.Adapter("wide-fifo", PeftAdapterFolder.Config(Rank, 10, ["down_proj"], new Dictionary<string, object?> { ["fan_in_fan_out"] = true }), fA, fB));
        Check(transposed[Down1 + ".weight"], LoraReference.Delta(fA.Values, fB.Values, Rank, outFeatures: Intermediate, inFeatures: Hidden, 2.0, transposed: true), "fan_in_fan_out");
    }

    private static void Check(Core.Tensors.ITensorSource vector, double[] expected, string what)
    {
        foreach (int piece in new[] { 29, 1000 })
        {
            var actual = LoraFixture.Read(vector, piece);
            Assert.Equal(expected.Length, actual.Length);
            // rank float32 roundings of products of a few hundredths: far below 1e-6 of the values' scale.
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6 * Math.Max(1e-3, Math.Abs(expected[i])) + 1e-9, $"{what}[{i}] (pieces of {piece}): {actual[i]} against {expected[i]}");
        }
    }
}
