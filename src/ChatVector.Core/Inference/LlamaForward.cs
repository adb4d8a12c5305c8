using ChatVector.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.Core.Inference;

/// <summary>
/// The forward pass, streamed layer by layer: each layer's weights are read once, applied to every
/// token, and freed before the next layer is read. Memory is one layer plus the activations.
/// </summary>
public sealed class LlamaForward(ModelWeights weights)
{
    private readonly RotaryEmbedding _rope = new(weights.Config);

    public ModelWeights Weights { get; } = weights;

    /// <summary>Query rows whose attention scores are computed at once: bounds the (heads, rows, T) score matrix of long inputs.</summary>
    public long QueryBlock { get; set; } = 256;
    public LlamaConfig Config => Weights.Config;

    /// <summary>
    /// Final-normed hidden states (T, hidden) of <paramref name="ids"/>. With a cache, the ids continue
    /// the cached positions and their keys/values are added to it.
    /// </summary>
    public Tensor Hidden(IReadOnlyList<long> ids, KvCache? cache = null)
    {
        long start = cache?.Length ?? 0;
        var device = Weights.Context.Device;
        var dtype = Weights.ComputeType;
        var (cos, sin) = _rope.Tables(start, ids.Count, dtype, device);
        using (cos)
        using (sin)
        {
            var x = Weights.EmbeddingRows(ids);
            for (int layer = 0; layer < Config.Layers; layer++)
            {
                Weights.Context.Cancellation.ThrowIfCancellationRequested();
                using (var w = Weights.Layer(layer))
                using (var previous = x)
                    x = DecoderLayer.Apply(previous, w, Config, cos, sin, start, cache, layer, QueryBlock);
                // The layer's weights and temporaries are freed; without this, glibc keeps part of them in its heaps
                // and the peak grows with the number of layers.
                Runtime.NativeMemoryTuning.ReleaseFreedMemory();
            }
            cache?.Advance(ids.Count);
            using (x)
            using (var norm = Weights.Read(HuggingFaceNames.FinalNorm))
                return RmsNorm.Apply(x, norm, Config.RmsNormEps);
        }
    }

    /// <summary>Calls <paramref name="consume"/> with each chunk of logits (T, rows) and its first vocabulary row, the LM head read a row chunk at a time.</summary>
    public void ForEachLogitChunk(Tensor hidden, Action<Tensor, long> consume)
    {
        long vocab = Config.VocabSize, step = Weights.HeadChunkRows;
        for (long first = 0; first < vocab; first += step)
        {
            Weights.Context.Cancellation.ThrowIfCancellationRequested();
            long count = Math.Min(step, vocab - first);
            using var scope = NewDisposeScope();
            using var rows = Weights.HeadRows(first, count);
            using var logits = nn.functional.linear(hidden, rows).to(ScalarType.Float32);
            consume(logits, first);
        }
    }

    /// <summary>All logits (T, vocab) as float32: for tests and small models (a whole vocabulary row per token).</summary>
    public Tensor Logits(IReadOnlyList<long> ids)
    {
        using var hidden = Hidden(ids);
        var chunks = new List<Tensor>();
        try
        {
            ForEachLogitChunk(hidden, (logits, _) => chunks.Add(logits.cpu().clone().DetachFromDisposeScope()));
            return cat(chunks, 1);
        }
        finally
        {
            foreach (var chunk in chunks) chunk.Dispose();
        }
    }
}
