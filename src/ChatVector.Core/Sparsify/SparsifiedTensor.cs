using ChatVector.Core.Kernels;
using ChatVector.Core.Format;
using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// A vector tensor with some elements set to 0 (and the kept ones optionally divided by their keep probability),
/// computed a chunk at a time like every lazy source: the runner of a sparsification rule (<see cref="ISparsifyRule"/>,
/// one file per rule). It reads the vector's chunks, in their own memory, for the rule's mask, and its keys for the
/// rule's statistics passes (once per tensor, before the first chunk: <see cref="Precompute"/>). Values are float32
/// (float64 for an F64 vector), the type a vector is computed in.
/// </summary>
public sealed class SparsifiedTensor : ComputedTensorSource, IFloat32Source, IPrecomputed, IPrefetchable
{
    /// <summary>Elements per read during selection: about 1 MB of float32, like the export's chunks.</summary>
    public const int DefaultSelectionChunkElements = 1 << 18;

    private readonly ISparsifyRule _rule;

    public SparsifiedTensor(ITensorSource inner, SparsifyOptions options, int selectionChunkElements = DefaultSelectionChunkElements)
        : base(inner.Name, TorchTypes.AccumulatorFor([RequireFloat(inner)]), inner.Shape)
    {
        Inner = inner;
        Options = options.Canonical().Validated(inner.Name);
        if (selectionChunkElements <= 0) throw new ArgumentOutOfRangeException(nameof(selectionChunkElements));
        // An L1 rescale is the runner's (a statistics pass over the rule's output); the rule itself then keeps as it is.
        _rule = SparsifyRules.Create(RescalesToL1 ? Options with { Rescale = false } : Options, new SparsifyTarget(Name, ElementCount, RowLength, ReadKeys, selectionChunkElements));
    }

    public ITensorSource Inner { get; }
    public SparsifyOptions Options { get; }

    /// <summary>The last dimension (a 1-D tensor is one row; a scalar is a row of one).</summary>
    private long RowLength => Shape.Length == 0 ? 1 : Shape[^1];

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        if (_rule.RanksRows && count > 0) return ComputeRows(firstElement, count, context);
        // Masked in place, in the chunk's own memory (no managed copy).
        var values = ReadAccumulated(firstElement, count, context);
        try
        {
            ApplyRule(values, firstElement, count, context);
            return Replace(values, values.to(context.Device));
        }
        catch
        {
            values.Dispose();
            throw;
        }
    }

    /// <summary>A rule that ranks rows: the whole rows the range touches are read and masked, then the range is cut out.</summary>
    private torch.Tensor ComputeRows(long firstElement, long count, ComputeContext context)
    {
        long m = RowLength;
        long rowsStart = firstElement / m * m;
        long rowsEnd = (firstElement + count + m - 1) / m * m;
        if (rowsEnd - rowsStart > Array.MaxLength) throw new NotSupportedException($"'{Name}': {rowsEnd - rowsStart} elements in one read");
        var rows = ReadAccumulated(rowsStart, rowsEnd - rowsStart, context);
        try
        {
            ApplyRule(rows, rowsStart, count, context);
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

    /// <param name="served">The elements of this read the caller asked for (whole rows may be more): what
    /// <see cref="KeptBits"/> counts to know when every element has been served.</param>
    private void ApplyRule(torch.Tensor values, long firstElement, long served, ComputeContext context)
    {
        if (DType == DType.F64) ApplyRule(TensorSpans.Doubles(values), firstElement, context);
        else ApplyRule(TensorSpans.Floats(values), firstElement, served, context);
    }

    /// <param name="rowsFrom">
    /// Set when <paramref name="values"/> cover part of a row of a rule that ranks rows: without the bits the L1 pass
    /// recorded (which mask any range), the rule is applied to the whole rows around the range, read from it.
    /// </param>
    private void ApplyRule(Span<float> values, long firstElement, long served, ComputeContext context, IFloat32Source? rowsFrom = null)
    {
        double factor = RescalesToL1 ? L1Factor(context) : 1; // records the kept bits, for a rule that keeps them
        if (_keptBits?.TryApply(values, firstElement, served, (float)factor) == true) return; // masked and scaled in one walk
        if (rowsFrom is null) _rule.Apply(values, firstElement, context);
        else ReadRowsFloat32(rowsFrom, firstElement, values, context);
        if (factor != 1) MixKernels.Scale(values, (float)factor);
    }

    private void ApplyRule(Span<double> values, long firstElement, ComputeContext context)
    {
        _rule.Apply(values, firstElement, context);
        if (RescalesToL1 && L1Factor(context) is var factor && factor != 1)
            foreach (ref var value in values) value *= factor;
    }

    private bool RescalesToL1 => Options.Rescale && Options.Norm == RescaleNorm.L1;

    private readonly object _l1Gate = new();
    private double? _l1Factor;
    private KeptBits? _keptBits;

    /// <summary>Below this either L1 norm leaves the kept values as they are (mergekit's tolerance).</summary>
    private const double L1Tolerance = 1e-7;

    /// <summary>
    /// ‖v‖₁ / ‖kept‖₁ over the whole tensor, from one pass over its chunks (whole rows for a rule that ranks them), the
    /// rule's mask applied to each: the scale that gives the kept values the vector's L1 norm. Sums are float64, in the
    /// order of the chunks, so the factor depends neither on the export's chunking nor on its threads.
    /// </summary>
    private double L1Factor(ComputeContext context)
    {
        lock (_l1Gate)
        {
            if (_l1Factor is { } known) return known;
            double before = 0, after = 0;
            // Only a rule that ranks rows keeps its bits: its rows' ranks and draws cost several times the masking.
            // DARE's SIMD draws cost little more than reading the bits back (measured: 3% of a llama7b DARE-TIES merge's
            // CPU), and its bits, held from the norms' pass until served, added 90 MB of peak RSS.
            var kept = _rule.RanksRows && DType == DType.F32 ? KeptBits.For(ElementCount) : null;
            long step = _rule.RanksRows ? Math.Max(1, DefaultSelectionChunkElements / Math.Max(1, RowLength)) * RowLength : DefaultSelectionChunkElements;
            void Sum(Span<float> floats, long first)
            {
                before += AbsoluteSums.Of(floats);
                _rule.Apply(floats, first, context);
                kept?.Record(floats, first);
                after += AbsoluteSums.Of(floats);
            }
            for (long first = 0; first < ElementCount; first += step)
            {
                long count = Math.Min(step, ElementCount - first);
                if (CanReadFloat32)
                {
                    // Pooled managed memory, not a libtorch tensor per step: native blocks of varying row-rounded sizes
                    // left glibc's heaps fragmented, a hundred MB and more of peak RSS over a merge.
                    var scratch = ScratchArrays<float>.Rent((int)count);
                    try
                    {
                        var floats = scratch.AsSpan(0, (int)count);
                        ((IFloat32Source)Inner).ReadFloat32(first, floats, context);
                        Sum(floats, first);
                    }
                    finally { ScratchArrays<float>.Return(scratch); }
                    continue;
                }
                using var scope = torch.NewDisposeScope();
                var values = ReadAccumulated(first, count, context);
                if (DType == DType.F64)
                {
                    var doubles = TensorSpans.Doubles(values);
                    before += AbsoluteSums.Of(doubles);
                    _rule.Apply(doubles, first, context);
                    after += AbsoluteSums.Of(doubles);
                }
                else
                    Sum(TensorSpans.Floats(values), first);
            }
            _keptBits = kept;
            _l1Factor = before < L1Tolerance || after < L1Tolerance ? 1 : before / after;
            return _l1Factor.Value;
        }
    }

    /// <summary>Float32 vectors whose inner values read directly (stored or chat-vector tensors), by every rule.</summary>
    public bool CanReadFloat32 => DType == DType.F32 && Float32Reads.Direct(Inner);

    public void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, destination.Length);
        if (!CanReadFloat32) throw new NotSupportedException($"'{Name}' cannot be read as float32 directly");
        var inner = (IFloat32Source)Inner;
        inner.ReadFloat32(firstElement, destination, context);
        bool partOfRows = _rule.RanksRows && !IsWholeRows(firstElement, destination.Length);
        ApplyRule(destination, firstElement, destination.Length, context, partOfRows ? inner : null);
    }

    private bool IsWholeRows(long firstElement, long count) => firstElement % RowLength == 0 && count % RowLength == 0;

    /// <summary>The rule's output over the range, from the whole rows around it masked in pooled managed memory.</summary>
    private void ReadRowsFloat32(IFloat32Source inner, long firstElement, Span<float> destination, ComputeContext context)
    {
        long m = RowLength;
        long rowsStart = firstElement / m * m;
        long rowsEnd = (firstElement + destination.Length + m - 1) / m * m;
        if (rowsEnd - rowsStart > Array.MaxLength) throw new NotSupportedException($"'{Name}': {rowsEnd - rowsStart} elements in one read");
        var scratch = ScratchArrays<float>.Rent((int)(rowsEnd - rowsStart));
        try
        {
            var rows = scratch.AsSpan(0, (int)(rowsEnd - rowsStart));
            inner.ReadFloat32(rowsStart, rows, context);
            _rule.Apply(rows, rowsStart, context);
            rows.Slice((int)(firstElement - rowsStart), destination.Length).CopyTo(destination);
        }
        finally { ScratchArrays<float>.Return(scratch); }
    }

    public IEnumerable<StoredTensorSource> StoredInputs() => Prefetching.StoredInputs([Inner]);

    /// <summary>A rule with statistics reads its inner vector in its passes, then again for its values.</summary>
    public bool RereadsInputs => _rule.HasStatistics || RescalesToL1 || Prefetching.RereadsInputs([Inner]);

    /// <summary>Runs the rule's statistics passes ahead (see <see cref="IPrecomputed"/>), after the inner source's own.</summary>
    public void Precompute(ComputeContext context)
    {
        if (Inner is IPrecomputed inner) inner.Precompute(context);
        _rule.GatherStatistics(context);
        if (RescalesToL1) L1Factor(context);
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
