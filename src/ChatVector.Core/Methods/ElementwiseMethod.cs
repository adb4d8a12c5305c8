using ChatVector.Core.Format;
using ChatVector.Core.Tensors;
using System.Runtime.InteropServices;
using ChatVector.Core.Kernels;
using ChatVector.Core.Merge;
using TorchSharp;

namespace ChatVector.Core.Methods;

/// <summary>
/// A method whose output element is a formula of the base's and the vectors' elements at the same index, and of
/// whole-tensor statistics gathered before the first chunk (norms, dot products, counts): a method of this kind declares
/// how many statistics it sums, what one chunk adds to them, and the formula; <see cref="MethodTensor"/> runs it (one
/// pass over the inputs for the statistics, then the chunks). Arithmetic is float32 per element, statistics are float64
/// sums taken over fixed chunks in order, so the bytes depend neither on the export's chunking nor on its threads.
/// </summary>
public abstract class ElementwiseMethod : MergeMethod
{
    /// <summary>How many float64 sums <see cref="Accumulate"/> fills for these inputs (0: no statistics pass; per-row statistics grow with the rows).</summary>
    public virtual int StatisticCount(MethodInputs inputs) => 0;

    /// <summary>Adds one chunk's share to <paramref name="sums"/>; called chunk by chunk, in order.</summary>
    public virtual void Accumulate(ChunkValues chunk, Span<double> sums, MethodInputs inputs) { }

    /// <summary>
    /// The statistics, gathered before the first chunk: by default one pass of <see cref="Accumulate"/> over the chunks in
    /// order. A method whose statistics need several passes (one depending on the last: a selection, then sums over what
    /// it selected) overrides this and makes its passes with <paramref name="pass"/>.
    /// </summary>
    public virtual double[] GatherStatistics(MethodInputs inputs, StatisticsPasses pass)
    {
        var sums = new double[StatisticCount(inputs)];
        if (sums.Length > 0) pass.ForEachChunk(chunk => Accumulate(chunk, sums, inputs));
        return sums;
    }

    /// <summary>The output elements of the chunk, float32 before their one rounding to the output dtype.</summary>
    public abstract void Formula(ChunkValues chunk, ReadOnlySpan<double> statistics, MethodInputs inputs, Span<float> output);

    public override ITensorSource Merge(MethodInputs inputs) => new MethodTensor(this, inputs);
}

/// <summary>The base's and each vector's float32 values over one chunk of a tensor (a vector shorter than the tensor reads as zeros past its end).</summary>
public sealed class ChunkValues(long firstElement, float[] @base, float[][] vectors, int length)
{
    public long FirstElement => firstElement;
    public int Length => length;
    public ReadOnlySpan<float> Base => @base.AsSpan(0, length);
    public int VectorCount => vectors.Length;
    public ReadOnlySpan<float> Vector(int i) => vectors[i].AsSpan(0, length);
}

/// <summary>Passes over a method's inputs for its statistics: every chunk in order, or any range.</summary>
public sealed class StatisticsPasses(long elementCount, int chunkElements, Action<long, int, Action<ChunkValues>> read)
{
    public long ElementCount => elementCount;

    /// <summary>Calls <paramref name="use"/> with each chunk of the inputs, in order (fixed chunks: the same sums whatever the export does).</summary>
    public void ForEachChunk(Action<ChunkValues> use)
    {
        for (long first = 0; first < elementCount; first += chunkElements) read(first, (int)Math.Min(chunkElements, elementCount - first), use);
    }

    /// <summary>Calls <paramref name="use"/> with the inputs' values over [first, first + length).</summary>
    public void Read(long first, int length, Action<ChunkValues> use) => read(first, length, use);

    public int ChunkElements => chunkElements;
}

/// <summary>
/// The lazy output tensor of an <see cref="ElementwiseMethod"/>: statistics once (before the first chunk), then chunks.
/// Inputs that read float32 directly are read straight into pooled arrays, and a float32 CPU export's chunk is computed
/// into a pooled array and rounded from it into the chunk's bytes: a fresh float[] per chunk lands on the large object
/// heap and piles up until a full collection, and libtorch's per-chunk temporaries of varying sizes fragment the native
/// heaps, either way hundreds of MB of resident memory above what is live. A vector that is a model minus this tensor's
/// own base (a <see cref="ChatVectorTensor"/> over the same stored tensor) is read as the model minus the base's values
/// already read: the base is read once per chunk instead of once more per vector, with the same float32 subtraction.
/// </summary>
public sealed class MethodTensor : ComputedTensorSource, IPrecomputed, IPrefetchable
{
    /// <summary>Elements per statistics read: fixed, so the float64 sums are added in the same order whatever the export does.</summary>
    public const int StatisticsChunkElements = 1 << 18;

    /// <summary>
    /// Elements per formula call when every input is held in memory: the inputs' and the output's float32 arrays of a
    /// block stay in a core's cache from the read to the rounding. Inputs read from their files are read a chunk at a
    /// time instead: each read opens the file, which per small block costs more than the block's arithmetic.
    /// </summary>
    private const int BlockElements = 1 << 15;

    private readonly ElementwiseMethod _method;
    private readonly MethodInputs _inputs;
    private readonly ITensorSource?[] _modelsOverBase;
    private readonly object _gate = new();
    private double[]? _statistics;

    public MethodTensor(ElementwiseMethod method, MethodInputs inputs) : base(inputs.Base.Name, inputs.OutputDType, inputs.Base.Shape)
    {
        foreach (var v in inputs.Vectors)
            if (v.Vector.ElementCount > inputs.Base.ElementCount)
                throw new ArgumentException($"'{Name}': a vector of {v.Vector.ElementCount} elements is longer than the base's {inputs.Base.ElementCount}");
        _method = method;
        _inputs = inputs;
        _modelsOverBase = inputs.Vectors.Select(v => ModelOverBase(v.Vector, inputs.Base)).ToArray();
    }

    /// <summary>
    /// The model of a vector that is that model minus <paramref name="base"/> itself, both read as float32 directly
    /// (what <see cref="ChatVectorTensor.ReadFloat32"/> subtracts); null for any other vector, read as it is.
    /// </summary>
    private static ITensorSource? ModelOverBase(ITensorSource vector, ITensorSource @base) =>
        vector is ChatVectorTensor { CanReadFloat32: true } difference && SameTensor(difference.Base, @base) && Float32Reads.Direct(@base)
            && difference.Chat.ElementCount == difference.ElementCount
            ? difference.Chat
            : null;

    private static bool SameTensor(ITensorSource a, ITensorSource b) =>
        ReferenceEquals(a, b) || a is StoredTensorSource x && b is StoredTensorSource y && x.IsSameTensorAs(y);

    private IEnumerable<ITensorSource> Inputs => _inputs.Vectors.Select(v => v.Vector).Prepend(_inputs.Base);

    /// <summary>What a chunk reads: the base, and each vector, or its model where the vector is read over the base.</summary>
    private IEnumerable<ITensorSource> Reads => _inputs.Vectors.Select((v, i) => _modelsOverBase[i] ?? v.Vector).Prepend(_inputs.Base);

    public IEnumerable<StoredTensorSource> StoredInputs() => Prefetching.StoredInputs(Inputs);

    /// <summary>A statistics pass reads every input once more; without one, only what a chunk reads twice (a vector's own passes) counts.</summary>
    public bool RereadsInputs => _method.StatisticCount(_inputs) > 0 || Prefetching.RereadsInputs(Reads);

    public void Precompute(ComputeContext context)
    {
        foreach (var source in Inputs.OfType<IPrecomputed>()) source.Precompute(context);
        Statistics(context);
    }

    /// <summary>The method's sums over the whole tensor, gathered once; a failed or cancelled pass is retried by the next reader.</summary>
    private double[] Statistics(ComputeContext context)
    {
        lock (_gate)
        {
            if (_statistics is { } known) return known;
            var passes = new StatisticsPasses(ElementCount, StatisticsChunkElements, (first, length, use) => WithChunk(first, length, context, use));
            return _statistics = _method.GatherStatistics(_inputs, passes);
        }
    }

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        if (count > Array.MaxLength) throw new NotSupportedException($"'{Name}': {count} elements in one chunk");
        var statistics = Statistics(context);
        var output = new float[count];
        WithChunk(firstElement, (int)count, context, chunk => _method.Formula(chunk, statistics, _inputs, output.AsSpan(0, chunk.Length)));
        using var values = torch.tensor(output);
        return values.to(TorchTypes.ToScalarType(DType, Name), context.Device);
    }

    /// <summary>
    /// BF16 and F32 outputs on the CPU: the formula's float32 values, a block at a time, rounded (or copied) once into the
    /// chunk's bytes, the rounding libtorch's (<see cref="Bf16Rounding"/>). Elementwise, so the blocks give the bytes the
    /// whole chunk gives.
    /// </summary>
    protected override bool TryComputeBytes(long firstElement, long count, Span<byte> destination, ComputeContext context)
    {
        if (context.Device.type != DeviceType.CPU || DType is not (DType.BF16 or DType.F32) || !BitConverter.IsLittleEndian) return false;
        var statistics = Statistics(context);
        // Inputs not held in memory are read once for the chunk, so its blocks are computed in the cache too (read per
        // block, each read would open the file and check that it has not changed).
        using var copies = ChunkInputCopies.Read(StoredInputs(), ElementCount, firstElement, (int)count);
        int blockElements = copies.CoversAll ? (int)Math.Min(BlockElements, count) : (int)count;
        var output = ScratchArrays<float>.Rent(blockElements);
        try
        {
            int outputBytes = DType.Bits() / 8;
            for (long start = 0; start < count; start += blockElements)
            {
                int length = (int)Math.Min(blockElements, count - start);
                WithChunk(firstElement + start, length, context, chunk => _method.Formula(chunk, statistics, _inputs, output.AsSpan(0, length)));
                var values = output.AsSpan(0, length);
                var bytes = destination.Slice((int)(start * outputBytes), length * outputBytes);
                if (DType == DType.F32) MemoryMarshal.AsBytes(values).CopyTo(bytes);
                else Bf16Rounding.TryRound(values, bytes);
            }
            return true;
        }
        finally
        {
            ScratchArrays<float>.Return(output);
        }
    }

    private void WithChunk(long first, int length, ComputeContext context, Action<ChunkValues> use)
    {
        var @base = ScratchArrays<float>.Rent(length);
        var vectors = new float[_inputs.Vectors.Count][];
        try
        {
            for (int i = 0; i < vectors.Length; i++) vectors[i] = ScratchArrays<float>.Rent(length);
            var baseValues = @base.AsSpan(0, length);
            Read(_inputs.Base, first, baseValues, context);
            for (int i = 0; i < vectors.Length; i++)
            {
                var values = vectors[i].AsSpan(0, length);
                if (_modelsOverBase[i] is { } model) ReadOverBase(model, first, baseValues, values, context);
                else Read(_inputs.Vectors[i].Vector, first, values, context);
            }
            use(new ChunkValues(first, @base, vectors, length));
        }
        finally
        {
            ScratchArrays<float>.Return(@base);
            foreach (var v in vectors) if (v is not null) ScratchArrays<float>.Return(v);
        }
    }

    /// <summary>The source's float32 values over [first, first + values.Length), zeros past its end.</summary>
    private static void Read(ITensorSource source, long first, Span<float> values, ComputeContext context)
    {
        int covered = first >= source.ElementCount ? 0 : (int)Math.Min(values.Length, source.ElementCount - first);
        values[covered..].Clear();
        if (covered == 0) return;
        if (source is IFloat32Source { CanReadFloat32: true } direct)
        {
            direct.ReadFloat32(first, values[..covered], context);
            return;
        }
        using var scope = torch.NewDisposeScope();
        var chunk = Float32Reads.Chunk(source, first, covered, context);
        TensorSpans.Floats(chunk)[..covered].CopyTo(values);
    }

    /// <summary>model − base over [first, first + values.Length) (zeros past the model's end), from the base's values already read.</summary>
    private static void ReadOverBase(ITensorSource model, long first, ReadOnlySpan<float> baseValues, Span<float> values, ComputeContext context)
    {
        context.Cancellation.ThrowIfCancellationRequested();
        int covered = first >= model.ElementCount ? 0 : (int)Math.Min(values.Length, model.ElementCount - first);
        if (model is StoredTensorSource { CanReadFloat32: true } stored)
        {
            // Widened and subtracted in one walk over the chunk instead of two.
            values[covered..].Clear();
            if (covered > 0) stored.ReadFloat32Minus(first, baseValues[..covered], values[..covered], context);
            return;
        }
        Read(model, first, values, context);
        Float32Conversion.Subtract(values[..covered], baseValues[..covered]);
    }
}
