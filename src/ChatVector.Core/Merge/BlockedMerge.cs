using System.Runtime.InteropServices;
using ChatVector.Core.Format;
using ChatVector.Core.IO;
using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Merge;

/// <summary>
/// A float32 CPU merge of a chunk computed a block of <see cref="BlockElements"/> at a time from its inputs in memory
/// (held, <see cref="ResidentTensors"/>, or read once for the chunk, <see cref="ChunkInputCopies"/>), from the model's and the vectors' values read straight into small scratch
/// arrays, to the rounded output bytes: the model, each vector (chat −
/// base, masked), the mix and the rounding all work on a block while it is in the core's cache. Chunk-wide, each of
/// those steps sweeps a 2 MB float32 tensor of its own (libtorch-allocated per chunk) through main memory; here the
/// intermediates stay in the cache. The same operations in the same order per element as the chunk-wide path
/// (<see cref="MergedTensor"/>), so the same bytes.
/// Covers the common merges: every vector covers the whole chunk and reads float32 directly, no row override touches
/// the chunk, and either the plain sum with every ratio 1 or a mix of two vectors (TIES, DARE-TIES); anything else is
/// left to the chunk-wide path.
/// </summary>
internal static class BlockedMerge
{
    /// <summary>16K elements: the block's four float32 arrays (model, two vectors) and its inputs' bf16 bits fit a core's L2.</summary>
    private const int BlockElements = 1 << 14;

    public static bool TryCompute(MergedTensor merge, long firstElement, int count, Span<byte> destination, ComputeContext context)
    {
        if (!Applies(merge, firstElement, count)) return false;
        var model = (IFloat32Source)merge.Model;
        var vectors = merge.Terms.Select(t => (IFloat32Source)t.Vector).ToArray();
        // Inputs not held in memory are read once for the chunk (TIES reads its base three times: as the model and as
        // each vector's base), then lent to the blocks. Read per block, each read would open the file (and check that it
        // has not changed), which per small block cost more than the block's arithmetic.
        using var copies = ChunkInputCopies.Read(merge.StoredInputs(), merge.ElementCount, firstElement, count);
        int blockElements = copies.CoversAll ? BlockElements : count;
        var sumArray = ScratchArrays<float>.Rent(blockElements);
        var firstArray = ScratchArrays<float>.Rent(blockElements);
        var secondArray = ScratchArrays<float>.Rent(blockElements);
        try
        {
            int outputBytes = merge.DType.Bits() / 8;
            for (int start = 0; start < count; start += blockElements)
            {
                int length = Math.Min(blockElements, count - start);
                long first = firstElement + start;
                var sum = sumArray.AsSpan(0, length);
                model.ReadFloat32(first, sum, context);
                if (merge.Mixing.IsPlain)
                    foreach (var vector in vectors)
                    {
                        var values = firstArray.AsSpan(0, length);
                        vector.ReadFloat32(first, values, context);
                        MixKernels.Add(values, sum); // a ratio of 1: exactly s + v, as libtorch's fused add gives it
                    }
                else
                {
                    var a = firstArray.AsSpan(0, length);
                    var b = secondArray.AsSpan(0, length);
                    vectors[0].ReadFloat32(first, a, context);
                    vectors[1].ReadFloat32(first, b, context);
                    Consensus.TryMixTwoInto(sum, a, merge.Terms[0].Ratio, b, merge.Terms[1].Ratio, merge.Mixing);
                }
                Round(sum, destination.Slice(start * outputBytes, length * outputBytes), merge);
            }
            return true;
        }
        finally
        {
            ScratchArrays<float>.Return(sumArray);
            ScratchArrays<float>.Return(firstArray);
            ScratchArrays<float>.Return(secondArray);
        }
    }

    /// <summary>The sum rounded once to the output dtype (libtorch only where the rounding loop cannot run: a big-endian machine).</summary>
    private static void Round(ReadOnlySpan<float> sum, Span<byte> destination, MergedTensor merge)
    {
        if (merge.DType == DType.F32) MemoryMarshal.AsBytes(sum).CopyTo(destination);
        else if (!Bf16Rounding.TryRound(sum, destination))
        {
            using var values = TorchSharp.torch.tensor(sum.ToArray());
            using var rounded = values.to(TorchSharp.torch.ScalarType.BFloat16);
            TorchTypes.CopyOut(rounded, destination);
        }
    }

    private static bool Applies(MergedTensor merge, long firstElement, int count)
    {
        if (merge.Model is not IFloat32Source { CanReadFloat32: true }) return false;
        if (merge.Terms.Any(t => t.Vector is not IFloat32Source { CanReadFloat32: true } || t.Vector.ElementCount != merge.ElementCount)) return false;
        if (merge.RowOverrides.Count > 0) return false;
        if (merge.Mixing.IsPlain) return merge.Terms.All(t => t.Ratio == 1.0);
        if (merge.Mixing.IsScaled) return false; // mixed apart from the model, then scaled: the chunk-wide path
        return merge.Terms.Count == 2 && merge.Terms.All(t => double.IsFinite(t.Ratio));
    }
}
