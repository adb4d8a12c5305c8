using ChatVector.Core.Format;
using ChatVector.Core.Tensors;
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

/// <summary>The lazy output tensor of an <see cref="ElementwiseMethod"/>: statistics once (before the first chunk), then chunks.</summary>
public sealed class MethodTensor : ComputedTensorSource, IPrecomputed, IPrefetchable
{
    /// <summary>Elements per statistics read: fixed, so the float64 sums are added in the same order whatever the export does.</summary>
    public const int StatisticsChunkElements = 1 << 18;

    private readonly ElementwiseMethod _method;
    private readonly MethodInputs _inputs;
    private readonly object _gate = new();
    private double[]? _statistics;

    public MethodTensor(ElementwiseMethod method, MethodInputs inputs) : base(inputs.Base.Name, inputs.OutputDType, inputs.Base.Shape)
    {
        foreach (var v in inputs.Vectors)
            if (v.Vector.ElementCount > inputs.Base.ElementCount)
                throw new ArgumentException($"'{Name}': a vector of {v.Vector.ElementCount} elements is longer than the base's {inputs.Base.ElementCount}");
        _method = method;
        _inputs = inputs;
    }

    private IEnumerable<ITensorSource> Inputs => _inputs.Vectors.Select(v => v.Vector).Prepend(_inputs.Base);

    public IEnumerable<StoredTensorSource> StoredInputs() => Prefetching.StoredInputs(Inputs);

    public bool RereadsInputs => _method.StatisticCount(_inputs) > 0 || Prefetching.RereadsInputs(Inputs);

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
        WithChunk(firstElement, (int)count, context, chunk => _method.Formula(chunk, statistics, _inputs, output));
        using var values = torch.tensor(output);
        return values.to(TorchTypes.ToScalarType(DType, Name), context.Device);
    }

    private void WithChunk(long first, int length, ComputeContext context, Action<ChunkValues> use)
    {
        var @base = ScratchArrays<float>.Rent(length);
        var vectors = _inputs.Vectors.Select(_ => ScratchArrays<float>.Rent(length)).ToArray();
        try
        {
            Read(_inputs.Base, first, @base.AsSpan(0, length), context);
            for (int i = 0; i < vectors.Length; i++) Read(_inputs.Vectors[i].Vector, first, vectors[i].AsSpan(0, length), context);
            use(new ChunkValues(first, @base, vectors, length));
        }
        finally
        {
            ScratchArrays<float>.Return(@base);
            foreach (var v in vectors) ScratchArrays<float>.Return(v);
        }
    }

    /// <summary>The source's float32 values over [first, first + values.Length), zeros past its end.</summary>
    private static void Read(ITensorSource source, long first, Span<float> values, ComputeContext context)
    {
        values.Clear();
        if (first >= source.ElementCount) return;
        int covered = (int)Math.Min(values.Length, source.ElementCount - first);
        using var scope = torch.NewDisposeScope();
        var chunk = Float32Reads.Chunk(source, first, covered, context);
        TensorSpans.Floats(chunk)[..covered].CopyTo(values);
    }
}
