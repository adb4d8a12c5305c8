using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using TorchSharp;
using Names = ChatVector.Core.Models.HuggingFaceNames;

namespace ChatVector.Core.Inference;

/// <summary>
/// Where the forward pass gets its weights: named lazy tensors (a model folder's, or a merge's computed
/// ones), read on demand. Streamed (the default), every read goes to the source and the caller frees
/// the result, so only the weights in use are in memory: one layer, a slice of embedding rows, a chunk
/// of LM head rows. Loaded, each tensor is read once and kept, for comparison and small models.
/// </summary>
public sealed class ModelWeights : IDisposable
{
    private readonly Func<string, ITensorSource?> _find;
    private readonly Dictionary<string, torch.Tensor>? _loaded;

    /// <param name="find">The tensor of a name, or null when the model has none.</param>
    /// <param name="keepLoaded">Keep every tensor after its first read (the fully loaded variant).</param>
    public ModelWeights(LlamaConfig config, Func<string, ITensorSource?> find, ComputeContext context, string modelPath, bool keepLoaded = false)
    {
        Config = config;
        _find = find;
        Context = context;
        ModelPath = modelPath;
        _loaded = keepLoaded ? new Dictionary<string, torch.Tensor>(StringComparer.Ordinal) : null;
        HeadChunkRows = Math.Max(1, HeadChunkBytes / (4L * config.HiddenSize));
        HeadName = find(Names.LmHead) is not null || !config.TieWordEmbeddings ? Names.LmHead : Names.Embedding;
        Check();
        // Loads libtorch (and checks the device) before any tensor code runs: TorchSharp's own loader must never go first.
        _ = context.Device;
    }

    public static ModelWeights ForFolder(StoredModel model, LlamaConfig config, ComputeContext context, bool keepLoaded = false) =>
        new(config, name => model.Find(name) is { } stored ? new StoredTensorSource(stored) : null, context, model.Path, keepLoaded);

    public LlamaConfig Config { get; }
    public ComputeContext Context { get; }
    public string ModelPath { get; }
    /// <summary>The LM head: lm_head.weight, or the embedding when tie_word_embeddings and no lm_head is stored.</summary>
    public string HeadName { get; }

    /// <summary>
    /// float32 on the CPU (libtorch's CPU half-precision matmuls are slow and inexact); the model's
    /// own dtype on CUDA, as the model was trained to run.
    /// </summary>
    public torch.ScalarType ComputeType => _computeType ??= Context.Device.type == DeviceType.CPU
        ? torch.ScalarType.Float32
        : TorchTypes.ToScalarType(Source(Names.Embedding).DType, Names.Embedding);

    private torch.ScalarType? _computeType; // asked on every weight read (once per embedding row)

    /// <summary>Every weight present with the shape config.json implies: checked on headers alone, before any work.</summary>
    private void Check()
    {
        var c = Config;
        long q = (long)c.Heads * c.HeadDim, kv = (long)c.KvHeads * c.HeadDim;
        Expect(Names.Embedding, c.VocabSize, c.HiddenSize);
        Expect(Names.FinalNorm, c.HiddenSize);
        Expect(HeadName, c.VocabSize, c.HiddenSize);
        for (int i = 0; i < c.Layers; i++)
        {
            Expect(Names.LayerWeight(i, Names.QProj), q, c.HiddenSize);
            Expect(Names.LayerWeight(i, Names.KProj), kv, c.HiddenSize);
            Expect(Names.LayerWeight(i, Names.VProj), kv, c.HiddenSize);
            Expect(Names.LayerWeight(i, Names.OProj), c.HiddenSize, q);
            Expect(Names.LayerWeight(i, Names.GateProj), c.IntermediateSize, c.HiddenSize);
            Expect(Names.LayerWeight(i, Names.UpProj), c.IntermediateSize, c.HiddenSize);
            Expect(Names.LayerWeight(i, Names.DownProj), c.HiddenSize, c.IntermediateSize);
            Expect(Names.LayerWeight(i, Names.InputNorm), c.HiddenSize);
            Expect(Names.LayerWeight(i, Names.PostAttentionNorm), c.HiddenSize);
        }
    }

    private void Expect(string name, params long[] shape)
    {
        var source = _find(name) ?? throw new InferenceException(InferenceProblem.MissingWeight,
            $"{ModelPath}: the model has no tensor '{name}', which {Config.Architecture} needs" +
            (name == Names.LmHead ? " (config.json does not set tie_word_embeddings)." : "."), ModelPath);
        if (!source.Shape.SequenceEqual(shape))
            throw new InferenceException(InferenceProblem.MissingWeight,
                $"{ModelPath}: tensor '{name}' has shape [{string.Join(", ", source.Shape)}]; config.json implies [{string.Join(", ", shape)}].", ModelPath);
    }

    private ITensorSource Source(string name) => _find(name) ?? throw new InferenceException(InferenceProblem.MissingWeight, $"{ModelPath}: no tensor '{name}'.", ModelPath);

    /// <summary>A whole tensor in the compute dtype; the caller disposes it.</summary>
    public torch.Tensor Read(string name)
    {
        if (_loaded is not null && _loaded.TryGetValue(name, out var kept)) return kept.alias();
        var source = Source(name);
        // Every intermediate handle is disposed here: one left to a caller's dispose scope would keep its storage
        // (a whole weight) alive until that scope ends, i.e. every layer until the pass is over.
        using var flat = ReadRange(source, 0, source.ElementCount);
        var tensor = flat.reshape(source.Shape);
        if (_loaded is null) return tensor;
        // Kept beyond whatever dispose scope the first read happened in.
        _loaded[name] = tensor.DetachFromDisposeScope();
        return tensor.alias();
    }

    private torch.Tensor? ReadOptional(string name) => _find(name) is null ? null : Read(name);

    private torch.Tensor ReadRange(ITensorSource source, long first, long count)
    {
        Context.Cancellation.ThrowIfCancellationRequested();
        using var raw = source.ReadChunk(first, count, Context);
        return raw.to(ComputeType);
    }

    /// <summary>Layer <paramref name="layer"/>'s weights (read now; the caller disposes them).</summary>
    public LayerWeights Layer(int layer)
    {
        string W(string module) => Names.LayerWeight(layer, module);
        string B(string module) => Names.LayerBias(layer, module);
        return new LayerWeights
        {
            InputNorm = Read(W(Names.InputNorm)),
            PostAttentionNorm = Read(W(Names.PostAttentionNorm)),
            Q = Read(W(Names.QProj)),
            K = Read(W(Names.KProj)),
            V = Read(W(Names.VProj)),
            O = Read(W(Names.OProj)),
            QBias = ReadOptional(B(Names.QProj)),
            KBias = ReadOptional(B(Names.KProj)),
            VBias = ReadOptional(B(Names.VProj)),
            OBias = ReadOptional(B(Names.OProj)),
            Gate = Read(W(Names.GateProj)),
            Up = Read(W(Names.UpProj)),
            Down = Read(W(Names.DownProj)),
        };
    }

    /// <summary>The embedding rows of <paramref name="ids"/> (T, hidden): one ranged read per distinct id.</summary>
    public torch.Tensor EmbeddingRows(IReadOnlyList<long> ids)
    {
        foreach (var id in ids)
            if (id < 0 || id >= Config.VocabSize)
                throw new InferenceException(InferenceProblem.TokenOutOfRange, $"{ModelPath}: token id {id} is outside the vocabulary (0..{Config.VocabSize - 1}).", ModelPath);
        long hidden = Config.HiddenSize;
        var distinct = ids.Distinct().ToList();
        var rows = new List<torch.Tensor>(distinct.Count);
        try
        {
            if (_loaded is not null)
            {
                using var table = Read(Names.Embedding);
                foreach (var id in distinct)
                {
                    using var row = table[id];
                    rows.Add(row.clone());
                }
            }
            else
            {
                var source = Source(Names.Embedding);
                foreach (var id in distinct) rows.Add(ReadRange(source, id * hidden, hidden));
            }
            using var unique = torch.stack(rows);
            var position = distinct.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => (long)p.i);
            using var index = torch.tensor(ids.Select(id => position[id]).ToArray(), device: unique.device);
            return unique.index_select(0, index);
        }
        finally
        {
            foreach (var row in rows) row.Dispose();
        }
    }

    /// <summary>
    /// Rows [<paramref name="first"/>, +<paramref name="count"/>) of the LM head (count, hidden). The same
    /// row chunks are used loaded or streamed, so both give bit-identical logits.
    /// </summary>
    public torch.Tensor HeadRows(long first, long count)
    {
        long hidden = Config.HiddenSize;
        if (_loaded is not null)
        {
            using var head = Read(HeadName);
            using var rows = head.narrow(0, first, count);
            return rows.clone();
        }
        using var flat = ReadRange(Source(HeadName), first * hidden, count * hidden);
        return flat.reshape(count, hidden);
    }

    /// <summary>LM head rows per chunk: by default about <see cref="HeadChunkBytes"/> of float32 weights.</summary>
    public long HeadChunkRows { get; set; }

    /// <summary>Bytes of LM head weights in memory at once: small beside a layer of a 7B model, large enough for few reads.</summary>
    public const long HeadChunkBytes = 64L << 20;

    public void Dispose()
    {
        if (_loaded is null) return;
        foreach (var tensor in _loaded.Values) tensor.Dispose();
        _loaded.Clear();
    }
}
