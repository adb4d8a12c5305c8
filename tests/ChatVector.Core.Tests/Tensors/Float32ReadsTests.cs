using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Tensors;

/// <summary>The direct float32 reads (no libtorch temporaries) give exactly libtorch's values, whatever the range.</summary>
public sealed class Float32ReadsTests
{
    private static float[] ThroughTorch(ITensorSource source, long first, int count)
    {
        using var chunk = source.ReadChunk(first, count, ComputeContext.Cpu());
        using var wide = chunk.to(torch.ScalarType.Float32);
        return wide.data<float>().ToArray();
    }

    private static float[] Direct(IFloat32Source source, long first, int count)
    {
        var values = new float[count];
        source.ReadFloat32(first, values, ComputeContext.Cpu());
        return values;
    }

    // Ranges that start and end at every place of a SIMD vector and of the scalar tail.
    private static IEnumerable<(long First, int Count)> Ranges(long n) =>
        new (long, int)[] { (0, (int)n), (1, (int)n - 1), (3, 17), (5, 40), (n - 33, 33), (7, 1) }.Where(r => r.Item1 >= 0 && r.Item1 + r.Item2 <= n);

    [Fact]
    public void Stored_bf16_tensors_widen_to_libtorchs_float32()
    {
        using var trio = new Trio();
        foreach (var stored in StoredModel.Open(trio.CpPath).Tensors.Where(t => t.Info.DType == Core.Format.DType.BF16))
        {
            var source = new StoredTensorSource(stored);
            Assert.True(source.CanReadFloat32);
            foreach (var (first, count) in Ranges(source.ElementCount))
                Assert.Equal(ThroughTorch(source, first, count), Direct(source, first, count));
        }
    }

    [Fact]
    public void Chat_vectors_subtract_as_libtorch_does()
    {
        using var trio = new Trio();
        foreach (var vector in trio.Pair().Vectors)
        {
            Assert.True(vector.CanReadFloat32);
            foreach (var (first, count) in Ranges(vector.ElementCount))
                Assert.Equal(ThroughTorch(vector, first, count), Direct(vector, first, count));
        }
    }
}
