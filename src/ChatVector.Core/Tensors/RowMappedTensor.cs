using ChatVector.Core.Format;
using ChatVector.Core.Kernels;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>Where one row of a <see cref="RowMappedTensor"/> comes from.</summary>
public enum RowKind : byte
{
    /// <summary>Row <see cref="RowSource.Row"/> of input <see cref="RowSource.Input"/>.</summary>
    Copy,
    /// <summary>The mean of the rows of average group <see cref="RowSource.Row"/> (each an input and a row).</summary>
    Average,
    /// <summary>Zeros.</summary>
    Zero,
    /// <summary>The mean of this tensor's other rows (the rows that are not <see cref="Mean"/>): padding.</summary>
    Mean,
}

/// <summary>One output row's source: a kind, an input index and a row (or, for an average, the group's index).</summary>
public readonly record struct RowSource(RowKind Kind, int Input, long Row)
{
    public static RowSource Copy(int input, long row) => new(RowKind.Copy, input, row);
    public static RowSource Average(int group) => new(RowKind.Average, -1, group);
    public static readonly RowSource Zero = new(RowKind.Zero, -1, -1);
    public static readonly RowSource Mean = new(RowKind.Mean, -1, -1);
}

/// <summary>
/// A tensor whose rows are gathered from other tensors of the same row width: each output row is a row of one input,
/// the mean of rows of several inputs, zeros, or the mean of the tensor's other rows. A vocabulary change makes an
/// embedding or LM head this way: each row is taken by its token from the model that has it. Values are read a chunk
/// at a time, row runs of one input in one read; averages are computed in float32 (float64 for F64) and rounded once
/// to this tensor's dtype, so a copied row keeps its bytes. The rows' mean, when a row needs it, is gathered in one
/// pass over the other rows before the first chunk.
/// </summary>
public sealed class RowMappedTensor : ComputedTensorSource, IPrecomputed
{
    private readonly IReadOnlyList<ITensorSource> _inputs;
    private readonly RowSource[] _rows;
    private readonly IReadOnlyList<(int Input, long Row)[]> _averages;
    private readonly long _width;
    private readonly object _meanLock = new();
    private double[]? _mean;

    /// <param name="inputs">The tensors rows are copied from; each has rows of <paramref name="width"/> elements.</param>
    /// <param name="rows">The source of each output row.</param>
    /// <param name="averages">The groups <see cref="RowKind.Average"/> rows refer to.</param>
    public RowMappedTensor(string name, DType dtype, long[] shape, IReadOnlyList<ITensorSource> inputs, RowSource[] rows,
        IReadOnlyList<(int Input, long Row)[]> averages)
        : base(name, dtype, shape)
    {
        if (shape.Length < 1 || shape[0] != rows.Length)
            throw new ArgumentException($"'{name}': {rows.Length} row sources for shape [{string.Join(", ", shape)}]");
        _width = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        foreach (var input in inputs)
            if (input.Shape.Length != shape.Length || input.ElementCount / Math.Max(1, input.Shape[0]) != _width)
                throw new ArgumentException($"'{name}': input '{input.Name}' has rows of another width");
        _inputs = inputs;
        _rows = rows;
        _averages = averages;
    }

    /// <summary>The source of each output row (for tests and the plan's notes).</summary>
    public IReadOnlyList<RowSource> Rows => _rows;

    private torch.ScalarType Accumulator => DType == DType.F64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;

    public void Precompute(ComputeContext context) => _ = MeanRow(context);

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        var values = torch.empty(count, Accumulator);
        try
        {
            Fill(values, firstElement, context);
            var typed = values.to(TorchTypes.ToScalarType(DType, Name));
            if (!ReferenceEquals(typed, values)) values.Dispose();
            if (context.Device.type == DeviceType.CPU) return typed;
            using (typed) return typed.to(context.Device);
        }
        catch
        {
            values.Dispose();
            throw;
        }
    }

    /// <summary>Fills <paramref name="values"/> (accumulator type, CPU) with elements [first, first + its length).</summary>
    private void Fill(torch.Tensor values, long firstElement, ComputeContext context)
    {
        long count = values.shape[0], end = firstElement + count;
        long position = firstElement;
        while (position < end)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            long row = position / _width, column = position % _width;
            var source = _rows[row];
            long segmentEnd = Math.Min(end, (row + 1) * _width);
            // A run of rows copied from consecutive rows of one input is one read.
            if (source.Kind == RowKind.Copy && column == 0)
            {
                long last = row;
                while ((last + 1) * _width < end && _rows[last + 1] is { Kind: RowKind.Copy } next && next.Input == source.Input && next.Row == source.Row + (last + 1 - row)) last++;
                segmentEnd = Math.Min(end, (last + 1) * _width);
            }
            long length = segmentEnd - position;
            using var target = values.narrow(0, position - firstElement, length);
            switch (source.Kind)
            {
                case RowKind.Copy:
                    using (var read = Read(source.Input, source.Row * _width + column, length, context)) target.copy_(read);
                    break;
                case RowKind.Average:
                    var group = _averages[(int)source.Row];
                    target.zero_();
                    foreach (var (input, inputRow) in group)
                        using (var read = Read(input, inputRow * _width + column, length, context)) target.add_(read);
                    target.div_(group.Length);
                    break;
                case RowKind.Zero:
                    target.zero_();
                    break;
                case RowKind.Mean:
                    using (var mean = torch.tensor(MeanRow(context), torch.ScalarType.Float64))
                    using (var part = mean.narrow(0, column, length))
                        target.copy_(part);
                    break;
            }
            position = segmentEnd;
        }
    }

    private torch.Tensor Read(int input, long first, long count, ComputeContext context)
    {
        var chunk = _inputs[input].ReadChunk(first, count, context);
        var typed = chunk.to(Accumulator, torch.CPU);
        if (!ReferenceEquals(typed, chunk)) chunk.Dispose();
        return typed;
    }

    /// <summary>The mean of the rows that are not themselves <see cref="RowKind.Mean"/>, each rounded to this tensor's dtype first (as it is written), summed in float64.</summary>
    private double[] MeanRow(ComputeContext context)
    {
        lock (_meanLock)
        {
            if (_mean is not null) return _mean;
            using var scope = torch.NewDisposeScope();
            var sums = new double[_width];
            long counted = 0, rowsPerRead = Math.Max(1, (1 << 20) / Math.Max(1, _width));
            if (_rows.Any(r => r.Kind == RowKind.Mean))
                for (long row = 0; row < _rows.Length;)
                {
                    if (_rows[row].Kind == RowKind.Mean) { row++; continue; }
                    long stop = row + 1;
                    while (stop < _rows.Length && stop - row < rowsPerRead && _rows[stop].Kind != RowKind.Mean) stop++;
                    using (torch.NewDisposeScope())
                    {
                        // Each block's temporaries go with it: only the sums outlive the pass.
                        var values = torch.empty((stop - row) * _width, Accumulator);
                        Fill(values, row * _width, context);
                        var rounded = values.to(TorchTypes.ToScalarType(DType, Name)).to(torch.ScalarType.Float64).contiguous();
                        // Row by row in the module's own loop, not libtorch's sum: its reduction order may change with the
                        // CPU's vector width, and the mean row's bits must not.
                        ColumnSums.AddRows(TensorSpans.Doubles(rounded), sums);
                    }
                    counted += stop - row;
                    row = stop;
                }
            if (counted > 0)
                for (int j = 0; j < sums.Length; j++) sums[j] /= counted;
            return _mean = sums;
        }
    }
}
