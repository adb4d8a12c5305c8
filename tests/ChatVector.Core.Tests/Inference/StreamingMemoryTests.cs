using ChatVector.Core.Format;
using ChatVector.Core.Inference;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Inference;

/// <summary>
/// Streaming keeps one layer: when layer N's weights are read, no tensor of earlier layers is still alive, even
/// inside a caller's dispose scope (which would otherwise hold every intermediate until the pass ends).
/// Counted as live tensor handles on this thread at each layer's first read.
/// </summary>
public sealed class StreamingMemoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-stream-").FullName;

    public StreamingMemoryTests() => TestPaths.UseModuleNatives();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Passes reads through, noting the live tensor count when a layer's q_proj is read.</summary>
    private sealed class Probe(ITensorSource inner, Action<string> onRead) : ITensorSource
    {
        public string Name => inner.Name;
        public DType DType => inner.DType;
        public long[] Shape => inner.Shape;
        public long ElementCount => inner.ElementCount;
        public long ByteLength => inner.ByteLength;

        public torch.Tensor ReadChunk(long firstElement, long count, ComputeContext context)
        {
            onRead(Name);
            return inner.ReadChunk(firstElement, count, context);
        }

        public void CopyBytes(long byteOffset, Span<byte> destination, ComputeContext context) => inner.CopyBytes(byteOffset, destination, context);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Live_tensors_do_not_grow_from_layer_to_layer(bool withCache)
    {
        var m = new RandomLlama { Layers = 6, Biases = true };
        var folder = StoredModel.Open(m.Write(Path.Combine(_dir, "m")));
        var live = new List<long>();
        void OnRead(string name)
        {
            if (name.EndsWith("self_attn.q_proj.weight", StringComparison.Ordinal))
                live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        var weights = new ModelWeights(LlamaConfig.Read(folder), name => folder.Find(name) is { } t ? new Probe(new StoredTensorSource(t), OnRead) : null, ComputeContext.Cpu(), folder.Path);
        var forward = new LlamaForward(weights);
        using var cache = withCache ? new KvCache(m.Layers, capacity: 5) : null;
        using (torch.NewDisposeScope())
            forward.Hidden([1, 2, 3, 4, 5], cache);
        Assert.Equal(m.Layers, live.Count);
        // With a cache, each layer adds its keys and values (2 tensors) to it; nothing else may stay.
        long perLayer = withCache ? 2 : 0;
        for (int layer = 2; layer < live.Count; layer++)
            Assert.True(live[layer] - live[1] == perLayer * (layer - 1), $"live tensors at layers 1..: {string.Join(", ", live.Skip(1))}");
    }
}
