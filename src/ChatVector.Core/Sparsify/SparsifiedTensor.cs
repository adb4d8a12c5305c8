using ChatVector.Core.Format;
using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// A vector tensor with some elements set to 0 (and the kept ones optionally divided by their keep
/// probability), computed a chunk at a time like every lazy source. The magnitude trims first find their
/// two order bounds in sequential passes over the input (<see cref="ExactSelection"/>, once per tensor,
/// shared by all threads), then mask each chunk; the random rules need no pass. Values are float32
/// (float64 for an F64 vector), the type a vector is computed in.
/// </summary>
public sealed class SparsifiedTensor : ComputedTensorSource
{
    /// <summary>Elements per read during selection: about 1 MB of float32, like the export's chunks.</summary>
    public const int DefaultSelectionChunkElements = 1 << 18;

    private readonly object _gate = new();
    private (OrderPoint Lower, OrderPoint Upper)? _bounds;
    private readonly int _selectionChunkElements;

    public SparsifiedTensor(ITensorSource inner, SparsifyOptions options, int selectionChunkElements = DefaultSelectionChunkElements)
        : base(inner.Name, TorchTypes.AccumulatorFor([RequireFloat(inner)]), inner.Shape)
    {
        Inner = inner;
        Options = options.Validated(inner.Name);
        _selectionChunkElements = selectionChunkElements > 0 ? selectionChunkElements : throw new ArgumentOutOfRangeException(nameof(selectionChunkElements));
        if (options.Method == SparsifyMethod.Della && RowLength > Array.MaxLength)
            throw new NotSupportedException($"'{inner.Name}': a row of {RowLength} elements is too long to rank in memory for Della.");
    }

    public ITensorSource Inner { get; }
    public SparsifyOptions Options { get; }

    /// <summary>The last dimension (a 1-D tensor is one row; a scalar is a row of one).</summary>
    private long RowLength => Shape.Length == 0 ? 1 : Shape[^1];

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        var result = Options.Method switch
        {
            SparsifyMethod.Magnitude or SparsifyMethod.Breadcrumbs => Trim(firstElement, count, context),
            SparsifyMethod.Random => Dare(firstElement, count, context),
            SparsifyMethod.Della => Della(firstElement, count, context),
            _ => throw new NotSupportedException(Options.Method.ToString()),
        };
        var wide = torch.tensor(result);
        var typed = Replace(wide, wide.to(TorchTypes.ToScalarType(DType, Name)));
        return Replace(typed, typed.to(context.Device));
    }

    private double[] Trim(long firstElement, long count, ComputeContext context)
    {
        var (lower, upper) = Bounds(context);
        var values = ReadValues(firstElement, count, context);
        for (int i = 0; i < values.Length; i++)
        {
            var point = new OrderPoint(MagnitudeOrder.Key(values[i]), firstElement + i);
            values[i] = point >= lower && point < upper ? Scaled(values[i], Options.Density) : 0.0;
        }
        return values;
    }

    private double[] Dare(long firstElement, long count, ComputeContext context)
    {
        var random = new CounterRandom(Options.Seed, Name);
        var values = ReadValues(firstElement, count, context);
        for (int i = 0; i < values.Length; i++)
            values[i] = RandomKeep.Keeps(random, firstElement + i, Options.Density) ? Scaled(values[i], Options.Density) : 0.0;
        return values;
    }

    /// <summary>Reads the whole rows the range touches (a row is ranked as a whole), then returns the range.</summary>
    private double[] Della(long firstElement, long count, ComputeContext context)
    {
        if (count == 0) return [];
        long m = RowLength;
        long rowsStart = firstElement / m * m;
        long rowsEnd = (firstElement + count + m - 1) / m * m;
        var values = ReadValues(rowsStart, rowsEnd - rowsStart, context);
        var random = new CounterRandom(Options.Seed, Name);
        for (long rowStart = 0; rowStart < values.Length; rowStart += m)
        {
            var row = values.AsSpan((int)rowStart, (int)m);
            var probabilities = DellaKeep.Probabilities(row, Options.Density, Options.Epsilon);
            for (int j = 0; j < row.Length; j++)
                row[j] = random.Uniform(rowsStart + rowStart + j) < probabilities[j] ? Scaled(row[j], probabilities[j]) : 0.0;
        }
        return values.AsSpan((int)(firstElement - rowsStart), (int)count).ToArray();
    }

    // Divided in double and rounded once to the output type.
    private double Scaled(double value, double probability) => Options.Rescale ? value / probability : value;

    /// <summary>The trim's order bounds, found once per tensor; a failed or cancelled search is retried by the next reader.</summary>
    private (OrderPoint Lower, OrderPoint Upper) Bounds(ComputeContext context)
    {
        lock (_gate)
        {
            if (_bounds is { } known) return known;
            var window = OrderWindow.For(Options, ElementCount);
            var positions = window.PositionsToSelect(ElementCount);
            var points = ExactSelection.Select(ElementCount, positions, (start, n) => ReadKeys(start, n, context), _selectionChunkElements, context.Cancellation);
            var found = positions.Zip(points).ToDictionary(p => p.First, p => p.Second);
            _bounds = window.Bounds(ElementCount, found);
            return _bounds.Value;
        }
    }

    private uint[] ReadKeys(long start, int count, ComputeContext context)
    {
        var values = ReadValues(start, count, context);
        var keys = new uint[values.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = MagnitudeOrder.Key(values[i]);
        return keys;
    }

    private double[] ReadValues(long start, long count, ComputeContext context)
    {
        if (count > Array.MaxLength) throw new NotSupportedException($"'{Name}': {count} elements in one read");
        var chunk = Inner.ReadChunk(start, count, context);
        using var wide = Replace(chunk, chunk.to(torch.ScalarType.Float64, torch.CPU));
        return wide.data<double>().ToArray();
    }

    /// <summary>Frees <paramref name="old"/> unless a conversion that had nothing to do returned it as the result.</summary>
    private static torch.Tensor Replace(torch.Tensor old, torch.Tensor result)
    {
        if (!ReferenceEquals(old, result)) old.Dispose();
        return result;
    }

    private static DType RequireFloat(ITensorSource inner) =>
        inner.DType is DType.F16 or DType.BF16 or DType.F32 or DType.F64
            ? inner.DType
            : throw new NotSupportedException($"'{inner.Name}' is {inner.DType}; only F16, BF16, F32 and F64 vectors can be sparsified.");
}
