using ChatVector.Core.Kernels;
using TorchSharp;

namespace ChatVector.Core.Merge;

/// <summary>How the vectors' contributions to one element are combined (<c>Add-ChatVector -Consensus</c>).</summary>
public enum ConsensusMethod
{
    /// <summary>Every contribution counts (plain task arithmetic).</summary>
    None,
    /// <summary>The sign of Σ r_i·v_i is elected (TIES' sign election by mass).</summary>
    Sum,
    /// <summary>The sign of Σ sign(r_i·v_i) is elected (a vote, one per vector).</summary>
    Count,
}

/// <summary>The mixing step of a merge: consensus and normalization. The default is the plain sum.</summary>
/// <param name="Lambda">mergekit's <c>lambda</c>: the mix is multiplied by it before it is added to the model (1: as it is).</param>
public sealed record MixOptions(ConsensusMethod Consensus = ConsensusMethod.None, bool Normalize = false, double Lambda = 1.0)
{
    public static readonly MixOptions Plain = new();

    /// <summary>True for today's plain <c>model + Σ r_i·v_i</c>, which keeps its own (bit-for-bit) path.</summary>
    public bool IsPlain => Consensus == ConsensusMethod.None && !Normalize && Lambda == 1.0;

    /// <summary>The mix is scaled before it is added: it is computed apart from the model, then added with one rounding.</summary>
    public bool IsScaled => Lambda != 1.0;
}

/// <summary>
/// One vector's values for a chunk, with its ratio. <see cref="Values"/> may be shorter than the chunk:
/// it then covers the chunk's first elements only (a vector over the shared rows of an extended vocabulary).
/// </summary>
public sealed record Contribution(torch.Tensor Values, double Ratio);

/// <summary>
/// Consensus and normalization over one chunk, in the accumulator type (float32, or float64 for F64), with
/// w_i = r_i·v_i per element:
/// <list type="bullet">
/// <item>Sum elects s = +1 where Σ w_i ≥ 0, else −1; Count does the same with Σ sign(w_i). Contribution i
/// is kept where sign(w_i) = s; a zero is never kept. None keeps every contribution.</item>
/// <item>mixed = Σ kept w_i, added in the order of the vectors.</item>
/// <item>Normalize divides by Σ r_i over the kept contributions (a divisor of 0 becomes 1); without consensus,
/// by Σ r_i over the vectors that cover the element (|Σ r_i| &lt; 1e-8 becomes 1). Ratio sums are taken in
/// float64 and rounded once to the accumulator type.</item>
/// </list>
/// The caller adds the result to the model and rounds once.
/// </summary>
public static class Consensus
{
    private const double NegligibleRatioSum = 1e-8;

    /// <summary>
    /// <paramref name="model"/> += mixed, in float32 on the CPU, over the chunk's own memory (the contributions' values
    /// are overwritten by w_i), a block of <see cref="BlockElements"/> at a time. Every operation is the tensor path's
    /// (<see cref="Mix"/>), in the same order and types per element, so the bytes are the same; it only skips the
    /// temporaries. Returns false, having changed nothing, when a ratio is not finite (the tensor path then decides).
    /// </summary>
    public static bool TryMixInto(Span<float> model, IReadOnlyList<Contribution> contributions, MixOptions options)
    {
        if (contributions.Any(c => !double.IsFinite(c.Ratio))) return false;
        foreach (var c in contributions)
            if (c.Values.NumberOfElements > model.Length)
                throw new ArgumentException($"a contribution of {c.Values.NumberOfElements} elements is longer than the chunk of {model.Length}");
        int done = 0;
        if (contributions.Count == 2)
        {
            // Where both vectors cover the chunk (all of it, but for a vector over the leading rows of a larger vocabulary):
            // the whole mix in registers, the spans taken once (each view of a tensor's memory asks libtorch several things).
            var first = Tensors.TensorSpans.Floats(contributions[0].Values);
            var second = Tensors.TensorSpans.Floats(contributions[1].Values);
            done = Math.Min(first.Length, second.Length);
            MixKernels.MixTwo(model[..done], first[..done], contributions[0].Ratio, second[..done], contributions[1].Ratio,
                options.Consensus != ConsensusMethod.None, options.Consensus == ConsensusMethod.Count, options.Normalize, NegligibleRatioSum);
        }
        var totalArray = Tensors.ScratchArrays<float>.Rent(BlockElements);
        var mixedArray = Tensors.ScratchArrays<float>.Rent(BlockElements);
        var divisorArray = Tensors.ScratchArrays<double>.Rent(BlockElements);
        try
        {
            for (int start = done; start < model.Length; start += BlockElements)
            {
                int length = Math.Min(BlockElements, model.Length - start);
                MixInto(model.Slice(start, length), start, contributions, options,
                    totalArray.AsSpan(0, length), mixedArray.AsSpan(0, length), divisorArray.AsSpan(0, length));
            }
            return true;
        }
        finally
        {
            Tensors.ScratchArrays<float>.Return(totalArray);
            Tensors.ScratchArrays<float>.Return(mixedArray);
            Tensors.ScratchArrays<double>.Return(divisorArray);
        }
    }

    /// <summary>
    /// <see cref="TryMixInto(Span{float}, IReadOnlyList{Contribution}, MixOptions)"/> for a float64 merge (an F64 input or
    /// output), over the whole chunk with float64 sums (<see cref="MixKernels.MixInto(Span{double}, double[][], double[], bool, bool, bool, double)"/>);
    /// the contributions' values are overwritten by w_i. Returns false, having changed nothing, when a ratio is not finite.
    /// </summary>
    public static bool TryMixInto(Span<double> model, IReadOnlyList<Contribution> contributions, MixOptions options)
    {
        if (contributions.Any(c => !double.IsFinite(c.Ratio))) return false;
        var weighted = new double[contributions.Count][];
        for (int i = 0; i < contributions.Count; i++)
        {
            var values = Tensors.TensorSpans.Doubles(contributions[i].Values);
            if (values.Length > model.Length)
                throw new ArgumentException($"a contribution of {values.Length} elements is longer than the chunk of {model.Length}");
            weighted[i] = values.ToArray();
        }
        MixKernels.MixInto(model, weighted, contributions.Select(c => c.Ratio).ToArray(),
            options.Consensus != ConsensusMethod.None, options.Consensus == ConsensusMethod.Count, options.Normalize, NegligibleRatioSum);
        return true;
    }

    /// <summary>
    /// <paramref name="model"/> += the mix of two contributions that both cover it, given as float32 values (what
    /// <see cref="TryMixInto"/> does for two covering vectors); false, having changed nothing, when a ratio is not finite.
    /// </summary>
    public static bool TryMixTwoInto(Span<float> model, ReadOnlySpan<float> first, double firstRatio, ReadOnlySpan<float> second, double secondRatio, MixOptions options)
    {
        if (!double.IsFinite(firstRatio) || !double.IsFinite(secondRatio)) return false;
        MixKernels.MixTwo(model, first, firstRatio, second, secondRatio, options.Consensus != ConsensusMethod.None, options.Consensus == ConsensusMethod.Count,
            options.Normalize, NegligibleRatioSum);
        return true;
    }

    /// <summary>
    /// Elements per block: the sums of a block (16 bytes an element) stay in the core's L1/L2 cache through the passes
    /// over it. Over a whole 1 MB chunk they were 8 MB, cleared and swept several times per chunk from memory.
    /// </summary>
    private const int BlockElements = 4096;

    /// <summary>
    /// The elements [<paramref name="start"/>, + model.Length) of the chunk, with the block's sums in scratch memory
    /// (per call, so it stays bounded by the chunks in flight).
    /// </summary>
    private static void MixInto(Span<float> model, int start, IReadOnlyList<Contribution> contributions, MixOptions options,
        Span<float> total, Span<float> mixed, Span<double> divisor)
    {
        int length = model.Length;
        total.Clear();
        mixed.Clear();
        divisor.Clear();
        foreach (var c in contributions)
        {
            var w = Block(c, start, length);
            // A float32 tensor times a double scalar multiplies by the scalar in float32.
            MixKernels.Scale(w, (float)c.Ratio);
            // Elements past a contribution's end are w = +0: adding them changes no sum, so they are skipped.
            if (options.Consensus != ConsensusMethod.None) MixKernels.AddToTotal(w, total[..w.Length], options.Consensus == ConsensusMethod.Count);
        }
        foreach (var c in contributions)
        {
            var w = Block(c, start, length);
            if (options.Consensus == ConsensusMethod.None)
            {
                MixKernels.Add(w, mixed[..w.Length]);
                if (options.Normalize) MixKernels.Add(divisor[..w.Length], c.Ratio);
            }
            else
                MixKernels.AddKept(w, total[..w.Length], mixed[..w.Length], divisor[..w.Length], c.Ratio);
        }
        MixKernels.Finish(model, mixed, divisor, options.Normalize, byKept: options.Consensus != ConsensusMethod.None, NegligibleRatioSum);
    }

    /// <summary>A contribution's values over the block: what it covers of [start, start + length), possibly nothing.</summary>
    private static Span<float> Block(Contribution contribution, int start, int length)
    {
        var w = Tensors.TensorSpans.Floats(contribution.Values);
        return start >= w.Length ? Span<float>.Empty : w.Slice(start, Math.Min(length, w.Length - start));
    }

    /// <summary>mixed (already normalized when asked) for a chunk of <paramref name="length"/> elements, as tensors on another device (CUDA).</summary>
    public static torch.Tensor Mix(IReadOnlyList<Contribution> contributions, long length, MixOptions options, torch.ScalarType accumulator, torch.Device device)
    {
        var weighted = contributions.Select(c => Weighted(c, length, accumulator, device)).ToList();
        var kept = options.Consensus == ConsensusMethod.None
            ? weighted.Select(_ => (torch.Tensor?)null).ToList()
            : KeptMasks(weighted, ElectedSign(weighted, options.Consensus, length, accumulator, device));

        var mixed = torch.zeros(length, accumulator, device);
        for (int i = 0; i < weighted.Count; i++)
            mixed.add_(kept[i] is { } mask ? weighted[i].mul(mask) : weighted[i]);
        if (!options.Normalize) return mixed;

        var divisor = options.Consensus == ConsensusMethod.None
            ? CoveringRatioSum(contributions, length, device)
            : KeptRatioSum(contributions, kept!, length, device);
        return mixed.div_(divisor.to(accumulator));
    }

    // Scalars are made explicitly and disposed after the call: an implicitly converted one can be finalized
    // while libtorch still reads it (seen as "Unknown scalar type" under the streaming workers).

    /// <summary>r·v over the chunk, zeros beyond what the vector covers (a zero is never kept, never counted).</summary>
    private static torch.Tensor Weighted(Contribution contribution, long length, torch.ScalarType accumulator, torch.Device device)
    {
        var values = contribution.Values.to(accumulator);
        long covered = values.NumberOfElements;
        if (covered > length) throw new ArgumentException($"a contribution of {covered} elements is longer than the chunk of {length}");
        using var ratio = contribution.Ratio.ToScalar();
        var weighted = values.mul(ratio);
        if (covered == length) return weighted;
        var padded = torch.zeros(length, accumulator, device);
        padded.narrow(0, 0, covered).copy_(weighted);
        return padded;
    }

    /// <summary>+1 where the elected total is ≥ 0 (a tie elects +), −1 elsewhere.</summary>
    private static torch.Tensor ElectedSign(List<torch.Tensor> weighted, ConsensusMethod method, long length, torch.ScalarType accumulator, torch.Device device)
    {
        var total = torch.zeros(length, accumulator, device);
        foreach (var w in weighted) total.add_(method == ConsensusMethod.Count ? w.sign() : w);
        using var zero = 0.ToScalar();
        using var two = 2.ToScalar();
        using var one = 1.ToScalar();
        return total.ge(zero).to(accumulator).mul_(two).sub_(one);
    }

    /// <summary>1 where sign(w_i) equals the elected sign (never for a zero), 0 elsewhere.</summary>
    private static List<torch.Tensor?> KeptMasks(List<torch.Tensor> weighted, torch.Tensor elected) =>
        weighted.Select(w => (torch.Tensor?)w.sign().eq(elected).to(w.dtype)).ToList();

    private static torch.Tensor KeptRatioSum(IReadOnlyList<Contribution> contributions, List<torch.Tensor?> kept, long length, torch.Device device)
    {
        var sum = torch.zeros(length, torch.float64, device);
        for (int i = 0; i < contributions.Count; i++)
        {
            using var ratio = contributions[i].Ratio.ToScalar();
            sum.add_(kept[i]!.to(torch.float64).mul(ratio));
        }
        using var zero = 0.ToScalar();
        using var one = 1.0.ToScalar();
        return sum.masked_fill_(sum.eq(zero), one);
    }

    private static torch.Tensor CoveringRatioSum(IReadOnlyList<Contribution> contributions, long length, torch.Device device)
    {
        var sum = torch.zeros(length, torch.float64, device);
        foreach (var c in contributions)
        {
            using var ratio = c.Ratio.ToScalar();
            sum.narrow(0, 0, c.Values.NumberOfElements).add_(ratio);
        }
        using var negligible = NegligibleRatioSum.ToScalar();
        using var one = 1.0.ToScalar();
        return sum.masked_fill_(sum.abs().lt(negligible), one);
    }
}
