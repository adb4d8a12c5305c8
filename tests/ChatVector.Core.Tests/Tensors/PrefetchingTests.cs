using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using Xunit;

namespace ChatVector.Core.Tests.Tensors;

/// <summary>The page-cache hints find the stored tensors behind a merge's outputs, and never fail a merge.</summary>
public sealed class PrefetchingTests
{
    [Fact]
    public void A_merged_tensor_names_the_cp_chat_and_base_tensors_it_reads_once_each()
    {
        using var trio = new Trio();
        var request = new MergeRequest(StoredModel.Open(trio.CpPath), trio.Pair().Vectors.Select(v => new VectorInput(v, 1.0, v.Provenance)).ToList());
        var outputs = MergePlanner.Plan(request).Outputs;
        var merged = outputs.OfType<MergedTensor>().First(m => m.Terms.Count > 0);
        var inputs = Prefetching.StoredInputs([merged]).ToList();
        var expected = new[] { trio.CpPath, trio.ChatPath, trio.BasePath }.Select(folder => (StoredModel.Open(folder).Find(merged.Name)!.File.Path, merged.Name));
        Assert.Equal(expected.Order(), inputs.Select(s => (s.Stored.File.Path, s.Name)).Order());
        // Asked twice (the merged tensor and its own vector), each stored tensor is still counted once.
        Assert.Equal(3, Prefetching.StoredInputs([merged, merged.Terms[0].Vector]).Count());
        // A test model fits in memory many times over: no drop-behind.
        Assert.False(Prefetching.ShouldDropBehind(outputs));
    }

    [Fact]
    public void Hints_on_a_removed_file_are_ignored()
    {
        using var trio = new Trio();
        var source = new StoredTensorSource(StoredModel.Open(trio.CpPath).Tensors[0]);
        File.Delete(source.Stored.File.Path);
        Prefetching.Prefetch([source]);
        Prefetching.DropCached([source]);
    }
}
