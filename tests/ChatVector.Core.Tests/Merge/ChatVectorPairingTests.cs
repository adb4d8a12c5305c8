using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tests.Format;
using Xunit;

namespace ChatVector.Core.Tests.Merge;

public class ChatVectorPairingTests
{
    private static StoredModel Model(TempDir dir, string name, params RawTensor[] tensors) =>
        StoredModel.Open(RawSafeTensorFile.WriteTo(dir, name, RawSafeTensorFile.Valid(tensors)));

    private static (StoredModel Base, StoredModel Chat) Pair(TempDir dir) => (
        Model(dir, "base.safetensors", new("same", "F32", [2]), new("wider", "F32", [2]), new("fp8", "F8_E4M3", [2]), new("ids", "I64", [2])),
        Model(dir, "chat.safetensors", new("same", "F32", [2]), new("wider", "F32", [3]), new("fp8", "F8_E4M3", [2]), new("ids", "I64", [2])));

    [Fact]
    public void Weights_that_cannot_get_a_vector_are_reported_by_shape_and_by_dtype_buffers_are_not()
    {
        using var dir = new TempDir();
        var (@base, chat) = Pair(dir);

        var pairing = ChatVectorPairing.Pair(@base, chat, _ => true);

        Assert.Equal(["same"], pairing.Vectors.Select(v => v.Name));
        Assert.Equal(2, pairing.Mismatched.Count);
        Assert.Contains(pairing.Mismatched, m => m.Contains("'wider'") && m.Contains("[2]") && m.Contains("[3]"));
        Assert.Contains(pairing.Mismatched, m => m.Contains("'fp8'") && m.Contains("F8_E4M3"));
        Assert.Equal(["ids"], pairing.SkippedBuffers);
        Assert.Empty(pairing.Vectors[0].Provenance.SkippedTensors);
    }

    [Fact]
    public void Skipping_on_purpose_records_each_skipped_weight_in_the_saved_provenance()
    {
        using var dir = new TempDir();
        var (@base, chat) = Pair(dir);

        var provenance = ChatVectorPairing.Pair(@base, chat, _ => true, skipMismatched: true).Vectors[0].Provenance;
        var reloaded = VectorProvenance.FromMetadata(provenance.ToMetadata())!;

        Assert.Equal(2, provenance.SkippedTensors.Count);
        Assert.Equal(provenance.SkippedTensors, reloaded.SkippedTensors);
    }
}
