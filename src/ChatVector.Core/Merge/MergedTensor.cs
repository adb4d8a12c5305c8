using System.Runtime.InteropServices;
using ChatVector.Core.Format;
using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Merge;

/// <summary><c>ratio * vector</c> added to a model tensor; a vector may cover only the first elements (shared rows).</summary>
public sealed record VectorTerm(ITensorSource Vector, double Ratio);

/// <summary>Row <c>TargetRow</c> of the output replaced by row <c>SourceRow</c> of <c>Source</c> (special tokens).</summary>
public sealed record RowOverride(long TargetRow, ITensorSource Source, long SourceRow);

/// <summary>
/// One output tensor of a merge: <c>model + Σ ratio_i * vector_i</c> (or, with consensus or normalization,
/// <c>model + mixed</c>, see <see cref="Consensus"/>), then row overrides, computed in float32 (float64 when
/// any input or the output is F64) and rounded once to the output dtype.
/// </summary>
public sealed class MergedTensor : ComputedTensorSource, IPrecomputed, IPrefetchable
{
    public MergedTensor(ITensorSource model, IReadOnlyList<VectorTerm> terms, IReadOnlyList<RowOverride> rowOverrides, DType outputDType, MixOptions? mixing = null)
        : base(model.Name, outputDType, model.Shape)
    {
        Model = model;
        Terms = terms;
        RowOverrides = rowOverrides;
        Mixing = mixing ?? MixOptions.Plain;
        Accumulator = TorchTypes.AccumulatorFor(terms.Select(t => t.Vector.DType).Append(model.DType).Append(outputDType));
    }

    public ITensorSource Model { get; }
    public IReadOnlyList<VectorTerm> Terms { get; }
    public IReadOnlyList<RowOverride> RowOverrides { get; }
    public DType Accumulator { get; }
    public MixOptions Mixing { get; }

    private long RowLength => Shape.Length == 0 || Shape[0] == 0 ? ElementCount : ElementCount / Shape[0];

    public IEnumerable<StoredTensorSource> StoredInputs() => Prefetching.StoredInputs(Inputs);

    /// <summary>The base of a TIES merge is the model and each vector's base; a trimmed vector reads its inputs per pass.</summary>
    public bool RereadsInputs => Prefetching.RereadsInputs(Inputs);

    private IEnumerable<ITensorSource> Inputs => Terms.Select(t => t.Vector).Prepend(Model).Concat(RowOverrides.Select(r => r.Source));

    /// <summary>Prepares the vectors (their selection passes), in the order the first chunk reads them.</summary>
    public void Precompute(ComputeContext context)
    {
        foreach (var source in Terms.Select(t => t.Vector).Prepend(Model).OfType<IPrecomputed>()) source.Precompute(context);
    }

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context) =>
        ComputeAccumulated(firstElement, count, context).to(TorchTypes.ToScalarType(DType, Name));

    /// <summary>
    /// BF16 and F32 outputs of a float32 CPU merge: rounded (or copied) from the sum straight into the chunk's bytes.
    /// A float64 CPU merge's BF16 output too, from the sum rounded to float32 first (as libtorch converts float64 to
    /// bf16), so that its NaN are <see cref="Bf16Rounding.NaNBits"/> on any CPU rather than libtorch's per-kernel bits.
    /// </summary>
    protected override bool TryComputeBytes(long firstElement, long count, Span<byte> destination, ComputeContext context)
    {
        if (context.Device.type != DeviceType.CPU) return false;
        if (Accumulator == DType.F64 && DType == DType.BF16)
        {
            using var wide = ComputeAccumulated(firstElement, count, context);
            using var narrowed = wide.to(torch.ScalarType.Float32).contiguous();
            if (!Bf16Rounding.TryRound(TensorSpans.Floats(narrowed), destination)) TorchTypes.CopyOut(wide.to(torch.ScalarType.BFloat16), destination); // big-endian
            return true;
        }
        if (Accumulator != DType.F32 || DType is not (DType.BF16 or DType.F32)) return false;
        if (BlockedMerge.TryCompute(this, firstElement, (int)count, destination, context)) return true;
        var sum = ComputeAccumulated(firstElement, count, context).contiguous();
        var values = TensorSpans.Floats(sum);
        if (DType == DType.F32) MemoryMarshal.AsBytes(values).CopyTo(destination);
        else if (!Bf16Rounding.TryRound(values, destination)) TorchTypes.CopyOut(sum.to(torch.ScalarType.BFloat16), destination); // big-endian
        return true;
    }

    /// <summary><c>model + Σ</c> (or model + mixed) with row overrides, in the accumulator type, not yet rounded.</summary>
    private torch.Tensor ComputeAccumulated(long firstElement, long count, ComputeContext context)
    {
        var accumulatorType = TorchTypes.ToScalarType(Accumulator, Name);
        // Float32 on the CPU: sources that can write float32 straight into a tensor's memory skip libtorch's conversions.
        bool direct = Accumulator == DType.F32 && context.Device.type == DeviceType.CPU;
        torch.Tensor Read(ITensorSource source, long first, long n) =>
            direct ? Float32Reads.Chunk(source, first, n, context) : source.ReadChunk(first, n, context).to(accumulatorType);
        long end = firstElement + count;
        var sum = Read(Model, firstElement, count);
        if (Mixing.IsPlain) AddTerms(sum, firstElement, direct, Read);
        else if (Mixing.IsScaled) AddScaledMix(sum, ReadContributions(firstElement, end, context, accumulatorType, Read), count, accumulatorType);
        else Mix(sum, ReadContributions(firstElement, end, context, accumulatorType, Read), count, accumulatorType);
        foreach (var row in RowOverrides)
        {
            long rowStart = row.TargetRow * RowLength;
            if (ChunkRange.Intersect(firstElement, end, rowStart, rowStart + RowLength) is not { } overlap) continue;
            var (start, stop) = overlap;
            var replacement = row.Source.ReadChunk(row.SourceRow * RowLength + (start - rowStart), stop - start, context).to(accumulatorType);
            sum.narrow(0, start - firstElement, stop - start).copy_(replacement);
        }
        return sum;
    }

    /// <summary>The plain sum, term by term into the model's values (the original path, kept bit for bit).</summary>
    private void AddTerms(torch.Tensor sum, long firstElement, bool direct, Func<ITensorSource, long, long, torch.Tensor> read)
    {
        foreach (var term in Terms)
        {
            if (ChunkRange.Intersect(firstElement, firstElement + sum.NumberOfElements, 0, term.Vector.ElementCount) is not { } shared) continue;
            var (start, stop) = shared;
            var vector = read(term.Vector, start, stop - start);
            int offset = (int)(start - firstElement), length = (int)(stop - start);
            if (direct && term.Ratio == 1.0)
            {
                // s + 1·v rounded once is exactly s + v.
                MixKernels.Add(TensorSpans.Floats(vector), TensorSpans.Floats(sum).Slice(offset, length));
                continue;
            }
            // s + ratio·v rounded once, here rather than by libtorch's add_(v, alpha), whose kernels fuse it or not by
            // the CPU they find (AVX2 or not), which changed the bytes from one machine to another.
            if (sum.device_type == DeviceType.CPU && sum.is_contiguous() && vector.device_type == DeviceType.CPU && vector.is_contiguous())
            {
                if (Accumulator == DType.F32)
                {
                    MixKernels.MultiplyAdd(TensorSpans.Floats(vector), (float)term.Ratio, TensorSpans.Floats(sum).Slice(offset, length));
                    continue;
                }
                if (Accumulator == DType.F64)
                {
                    MixKernels.MultiplyAdd(TensorSpans.Doubles(vector), term.Ratio, TensorSpans.Doubles(sum).Slice(offset, length));
                    continue;
                }
            }
            using var ratio = term.Ratio.ToScalar(); // explicit and kept alive: an implicit one can be finalized during the call
            sum.narrow(0, start - firstElement, stop - start).add_(vector, alpha: ratio);
        }
    }

    /// <summary>
    /// model + λ·mixed (mergekit's lambda): the mix computed onto zeros by the same rules, then multiplied by λ and added
    /// to the model with one rounding (a fused multiply-add on the CPU, as every scaled addition here).
    /// </summary>
    private void AddScaledMix(torch.Tensor sum, List<Contribution> contributions, long count, torch.ScalarType accumulatorType)
    {
        using var mixed = torch.zeros(count, accumulatorType, sum.device);
        Mix(mixed, contributions, count, accumulatorType);
        if (sum.device_type == DeviceType.CPU && sum.is_contiguous() && Accumulator == DType.F32)
            MixKernels.MultiplyAdd(TensorSpans.Floats(mixed), (float)Mixing.Lambda, TensorSpans.Floats(sum));
        else if (sum.device_type == DeviceType.CPU && sum.is_contiguous() && Accumulator == DType.F64)
            MixKernels.MultiplyAdd(TensorSpans.Doubles(mixed), Mixing.Lambda, TensorSpans.Doubles(sum));
        else
        {
            using var lambda = Mixing.Lambda.ToScalar();
            sum.add_(mixed, alpha: lambda);
        }
    }

    /// <summary>model + mixed: in place in the chunk's float32 or float64 memory on the CPU, else with tensor operations.</summary>
    private void Mix(torch.Tensor sum, List<Contribution> contributions, long count, torch.ScalarType accumulatorType)
    {
        bool inPlace = sum.device_type == DeviceType.CPU && sum.is_contiguous()
            && contributions.All(c => c.Values.device_type == DeviceType.CPU && c.Values.is_contiguous());
        if (inPlace && Accumulator == DType.F32 && Consensus.TryMixInto(TensorSpans.Floats(sum), contributions, Mixing)) return;
        if (inPlace && Accumulator == DType.F64 && Consensus.TryMixInto(TensorSpans.Doubles(sum), contributions, Mixing)) return;
        // Another device (CUDA): the same rules as tensor operations on it.
        sum.add_(Consensus.Mix(contributions, count, Mixing, accumulatorType, sum.device));
    }

    /// <summary>
    /// Each term's values over the chunk. A vector covers the tensor's first elements, so its part of a chunk
    /// is always a prefix of the chunk (or nothing, which contributes zeros).
    /// </summary>
    private List<Contribution> ReadContributions(long firstElement, long end, ComputeContext context, torch.ScalarType accumulatorType,
        Func<ITensorSource, long, long, torch.Tensor> read)
    {
        var contributions = new List<Contribution>(Terms.Count);
        foreach (var term in Terms)
        {
            var values = ChunkRange.Intersect(firstElement, end, 0, term.Vector.ElementCount) is { } shared
                ? read(term.Vector, shared.Start, shared.End - shared.Start)
                : torch.empty(0, accumulatorType, context.Device);
            contributions.Add(new Contribution(values, term.Ratio));
        }
        return contributions;
    }
}
