using ChatVector.Core.Format;
using ChatVector.Core.Tensors;
using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// A vector tensor with some elements set to 0 (and the kept ones optionally divided by their keep
/// probability), computed a chunk at a time like every lazy source. The magnitude trims first find their
/// two order bounds in sequential passes over the input (<see cref="ExactSelection"/>, once per tensor,
/// shared by all threads), then mask each chunk; the random rules need no pass. Values are float32
/// (float64 for an F64 vector), the type a vector is computed in.
/// </summary>
public sealed class SparsifiedTensor : ComputedTensorSource, IFloat32Source, IPreparable, IPrefetchable
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
        if (Options.Method == SparsifyMethod.Della && DType == DType.F32) return DellaFloats(firstElement, count, context);
        if (Options.Method == SparsifyMethod.Della)
        {
            var wide = torch.tensor(Della(firstElement, count, context));
            var typed = Replace(wide, wide.to(TorchTypes.ToScalarType(DType, Name)));
            return Replace(typed, typed.to(context.Device));
        }
        // The magnitude trims and DARE mask the chunk in place, in its own memory (no managed copy).
        var values = ReadAccumulated(firstElement, count, context);
        try
        {
            if (DType == DType.F64) Mask(TensorSpans.Doubles(values), firstElement, context);
            else Mask(TensorSpans.Floats(values), firstElement, context);
            return Replace(values, values.to(context.Device));
        }
        catch
        {
            values.Dispose();
            throw;
        }
    }

    /// <summary>Float32 vectors whose inner values read directly (stored or chat-vector tensors), by every rule but Della's.</summary>
    public bool CanReadFloat32 => DType == DType.F32 && Options.Method != SparsifyMethod.Della && Float32Reads.Direct(Inner);

    public void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, destination.Length);
        if (!CanReadFloat32) throw new NotSupportedException($"'{Name}' cannot be read as float32 directly");
        ((IFloat32Source)Inner).ReadFloat32(firstElement, destination, context);
        Mask(destination, firstElement, context);
    }

    public IEnumerable<StoredTensorSource> StoredInputs() => Prefetching.StoredInputs([Inner]);

    /// <summary>A magnitude trim reads its inner vector in its selection passes, then again for its values.</summary>
    public bool RereadsInputs => Options.Method is SparsifyMethod.Magnitude or SparsifyMethod.Breadcrumbs || Prefetching.RereadsInputs([Inner]);

    /// <summary>Runs the trims' selection passes ahead (see <see cref="IPreparable"/>), after the inner source's own.</summary>
    public void Prepare(ComputeContext context)
    {
        if (Inner is IPreparable inner) inner.Prepare(context);
        if (Options.Method is SparsifyMethod.Magnitude or SparsifyMethod.Breadcrumbs) Bounds(context);
    }

    private void Mask<T>(Span<T> values, long firstElement, ComputeContext context) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Options.Method == SparsifyMethod.Random && typeof(T) == typeof(float)) DareFloats(MemoryMarshal.Cast<T, float>(values), firstElement);
        else if (Options.Method == SparsifyMethod.Random) Dare(values, firstElement);
        else if (typeof(T) == typeof(float) && !Options.Rescale) TrimFloats(MemoryMarshal.Cast<T, uint>(values), firstElement, Bounds(context));
        else Trim(values, firstElement, Bounds(context));
    }

    private void Trim<T>(Span<T> values, long firstElement, (OrderPoint Lower, OrderPoint Upper) bounds) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (lower, upper) = bounds;
        for (int i = 0; i < values.Length; i++)
        {
            var point = new OrderPoint(Key(values[i]), firstElement + i);
            values[i] = point >= lower && point < upper ? Scaled(values[i], Options.Density) : T.Zero;
        }
    }

    /// <summary>
    /// <see cref="Trim"/> for float32 without rescale, on the bit patterns a vector at a time: an element is kept when its
    /// key lies strictly between the bounds' keys, or equals a bound's key on the kept side of the bound's index. The
    /// lanes hold consecutive indices, so the index test is a lane number against where the bound falls in the vector;
    /// bf16 data has so many equal magnitudes that a vector holding the threshold's key is common, not a rare case.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private void TrimFloats(Span<uint> bits, long firstElement, (OrderPoint Lower, OrderPoint Upper) bounds)
    {
        int i = 0, width = Vector<uint>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var magnitude = new Vector<uint>(0x7FFF_FFFFu);
            var lower = new Vector<uint>(bounds.Lower.Key);
            var upper = new Vector<uint>(bounds.Upper.Key);
            var lanes = LaneNumbers(width);
            for (; i <= bits.Length - width; i += width)
            {
                var word = new Vector<uint>(bits[i..]);
                var keys = word & magnitude;
                long index = firstElement + i;
                // Lanes at or after the lower bound's index, and before the upper bound's (clamped to the vector's reach).
                var fromLower = Vector.AsVectorUInt32(Vector.GreaterThanOrEqual(lanes, new Vector<int>(LaneOf(bounds.Lower.Index, index, width))));
                var beforeUpper = Vector.AsVectorUInt32(Vector.LessThan(lanes, new Vector<int>(LaneOf(bounds.Upper.Index, index, width))));
                var aboveLower = Vector.GreaterThan(keys, lower) | (Vector.Equals(keys, lower) & fromLower);
                var belowUpper = Vector.LessThan(keys, upper) | (Vector.Equals(keys, upper) & beforeUpper);
                (word & aboveLower & belowUpper).CopyTo(bits[i..]);
            }
        }
        Trim(MemoryMarshal.Cast<uint, float>(bits[i..]), firstElement + i, bounds);
    }

    private static Vector<int> LaneNumbers(int width)
    {
        Span<int> numbers = stackalloc int[width];
        for (int lane = 0; lane < width; lane++) numbers[lane] = lane;
        return new Vector<int>(numbers);
    }

    /// <summary>The lane of a vector starting at <paramref name="first"/> that holds flat index <paramref name="index"/>, clamped to [−1, width].</summary>
    private static int LaneOf(long index, long first, int width) =>
        index < first ? -1 : index - first >= width ? width : (int)(index - first); // compared before subtracting: First.Index is long.MinValue

    /// <summary>
    /// <see cref="Dare"/> for float32, a SIMD vector at a time: the draws' integer bits against
    /// <see cref="RandomKeep.Threshold"/>, kept values divided in double and rounded to float32 lane by lane.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private void DareFloats(Span<float> values, long firstElement)
    {
        var random = new CounterRandom(Options.Seed, Name);
        ulong threshold = RandomKeep.Threshold(Options.Density);
        int i = 0, width = Vector<float>.Count, half = Vector<ulong>.Count;
        if (Vector.IsHardwareAccelerated && width == 2 * half)
        {
            var limit = new Vector<ulong>(threshold);
            // The draws' states of the vector's lower half, stepped by adds (see CounterRandom.State).
            var lanes = new ulong[half];
            for (int l = 0; l < half; l++) lanes[l] = random.State(firstElement + l);
            var states = new Vector<ulong>(lanes);
            var upperHalf = new Vector<ulong>(CounterRandom.StateStride(half));
            var nextVector = new Vector<ulong>(CounterRandom.StateStride(width));
            var probability = new Vector<double>(Options.Density);
            for (; i <= values.Length - width; i += width, states += nextVector)
            {
                var keepLow = Vector.LessThan(CounterRandom.Bits53OfStates(states), limit);
                var keepHigh = Vector.LessThan(CounterRandom.Bits53OfStates(states + upperHalf), limit);
                var keep = Vector.AsVectorSingle(Vector.Narrow(keepLow, keepHigh));
                var value = new Vector<float>(values[i..]);
                if (Options.Rescale)
                {
                    Vector.Widen(value, out var low, out var high);
                    value = Vector.Narrow(low / probability, high / probability);
                }
                Vector.ConditionalSelect(Vector.AsVectorInt32(keep), value, Vector<float>.Zero).CopyTo(values[i..]);
            }
        }
        for (; i < values.Length; i++)
            values[i] = random.Bits53(firstElement + i) < threshold ? Scaled(values[i], Options.Density) : 0f;
    }

    private void Dare<T>(Span<T> values, long firstElement) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new CounterRandom(Options.Seed, Name);
        for (int i = 0; i < values.Length; i++)
            values[i] = RandomKeep.Keeps(random, firstElement + i, Options.Density) ? Scaled(values[i], Options.Density) : T.Zero;
    }

    // Divided in double and rounded once to the vector's type (float32, or float64).
    private T Scaled<T>(T value, double probability) where T : unmanaged, IFloatingPointIeee754<T> =>
        Options.Rescale ? T.CreateTruncating(double.CreateTruncating(value) / probability) : value;

    // A float64 element's key is its magnitude in float32, as the rules are stated (MagnitudeOrder.Key(double)).
    private static uint Key<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> => MagnitudeOrder.Key(float.CreateTruncating(value));

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

    private double Scaled(double value, double probability) => Options.Rescale ? value / probability : value;

    /// <summary>
    /// <see cref="Della"/> for float32 vectors, the same bytes: the rows in their own float32 memory, each element's draw
    /// compared as integer bits with its rank's threshold (<see cref="RandomKeep.Threshold"/>), and the probabilities and
    /// thresholds tabled once per call, since they depend only on the rank (a row's length is the tensor's).
    /// </summary>
    private torch.Tensor DellaFloats(long firstElement, long count, ComputeContext context)
    {
        long m = RowLength;
        long rowsStart = firstElement / m * m;
        long rowsEnd = (firstElement + count + m - 1) / m * m;
        var rows = ReadAccumulated(rowsStart, rowsEnd - rowsStart, context);
        try
        {
            MaskDellaRows(TensorSpans.Floats(rows), rowsStart, (int)m);
            if (rowsStart == firstElement && rowsEnd - rowsStart == count) return Replace(rows, rows.to(context.Device));
            using var flat = rows.flatten();
            using var range = flat.narrow(0, firstElement - rowsStart, count);
            var owned = range.clone(); // the rows around the range go with their tensor
            rows.Dispose();
            return Replace(owned, owned.to(context.Device));
        }
        catch
        {
            rows.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Element j stays (divided by its probability when <paramref name="probabilities"/> is given) when its draw lies
    /// below its rank's threshold. Branch-free (a mask on the bits): about a third of the elements stay, at random,
    /// and a branch on each would be mispredicted as often.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private static void KeepByRank(Span<float> row, int[] ranks, ulong[] draws, ulong[] thresholds, double[]? probabilities)
    {
        for (int j = 0; j < row.Length; j++)
        {
            int rank = ranks[j];
            float value = probabilities is null ? row[j] : (float)(row[j] / probabilities[rank]);
            uint keep = 0u - (draws[j] < thresholds[rank] ? 1u : 0u);
            row[j] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) & keep);
        }
    }

    private void MaskDellaRows(Span<float> values, long rowsStart, int m)
    {
        var probabilities = new double[m];
        var thresholds = new ulong[m];
        for (int rank = 0; rank < m; rank++)
        {
            probabilities[rank] = DellaKeep.Probability(rank + 1, m, Options.Density, Options.Epsilon);
            thresholds[rank] = RandomKeep.Threshold(probabilities[rank]);
        }
        var random = new CounterRandom(Options.Seed, Name);
        var ranker = new RowRanks();
        var keys = ScratchArrays<uint>.Rent(m);
        var ranks = ScratchArrays<int>.Rent(m);
        var draws = ScratchArrays<ulong>.Rent(m);
        try
        {
            for (int rowStart = 0; rowStart < values.Length; rowStart += m)
            {
                var row = values.Slice(rowStart, m);
                MagnitudeOrder.Keys(row, keys.AsSpan(0, m));
                ranker.Rank(keys.AsSpan(0, m), ranks.AsSpan(0, m));
                random.Bits53Run(rowsStart + rowStart, draws.AsSpan(0, m));
                if (Options.Rescale) KeepByRank(row, ranks, draws, thresholds, probabilities);
                else KeepByRank(row, ranks, draws, thresholds, null);
            }
        }
        finally
        {
            ScratchArrays<uint>.Return(keys);
            ScratchArrays<int>.Return(ranks);
            ScratchArrays<ulong>.Return(draws);
        }
    }

    /// <summary>The trim's order bounds, found once per tensor; a failed or cancelled search is retried by the next reader.</summary>
    private (OrderPoint Lower, OrderPoint Upper) Bounds(ComputeContext context)
    {
        lock (_gate)
        {
            if (_bounds is { } known) return known;
            var window = OrderWindow.For(Options, ElementCount);
            var positions = window.PositionsToSelect(ElementCount);
            var points = ExactSelection.Select(ElementCount, positions, (start, keys) => ReadKeys(start, keys, context), _selectionChunkElements,
                context.Parallelism, context.Cancellation);
            var found = positions.Zip(points).ToDictionary(p => p.First, p => p.Second);
            _bounds = window.Bounds(ElementCount, found);
            return _bounds.Value;
        }
    }

    /// <summary>The keys of elements [start, start + keys.Length), computed from the chunk in its own memory.</summary>
    private void ReadKeys(long start, Span<uint> keys, ComputeContext context)
    {
        if (Inner is IMagnitudeKeySource { CanReadMagnitudeKeys: true } keyed)
        {
            keyed.ReadMagnitudeKeys(start, keys, context);
            return;
        }
        if (DType == DType.F32 && Inner is IFloat32Source { CanReadFloat32: true } direct)
        {
            var scratch = ScratchArrays<float>.Rent(keys.Length);
            try
            {
                var floats = scratch.AsSpan(0, keys.Length);
                direct.ReadFloat32(start, floats, context);
                MagnitudeOrder.Keys(floats, keys);
                return;
            }
            finally { ScratchArrays<float>.Return(scratch); }
        }
        // Selection threads have no scope of their own: this one frees the inner source's temporaries per read.
        using var scope = torch.NewDisposeScope();
        var values = ReadAccumulated(start, keys.Length, context);
        if (DType == DType.F64)
        {
            var doubles = TensorSpans.Doubles(values);
            for (int i = 0; i < keys.Length; i++) keys[i] = MagnitudeOrder.Key(doubles[i]);
        }
        else
            MagnitudeOrder.Keys(TensorSpans.Floats(values), keys);
    }

    /// <summary>The inner chunk as a contiguous CPU tensor of this tensor's type (float32 or float64), owned by the caller.</summary>
    private torch.Tensor ReadAccumulated(long start, long count, ComputeContext context)
    {
        if (DType == DType.F32) return Float32Reads.Chunk(Inner, start, count, context);
        var chunk = Inner.ReadChunk(start, count, context);
        var typed = Replace(chunk, chunk.to(TorchTypes.ToScalarType(DType, Name), torch.CPU));
        return Replace(typed, typed.contiguous());
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
