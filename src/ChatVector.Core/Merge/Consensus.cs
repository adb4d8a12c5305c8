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
public sealed record MixOptions(ConsensusMethod Consensus = ConsensusMethod.None, bool Normalize = false)
{
    public static readonly MixOptions Plain = new();

    /// <summary>True for today's plain <c>model + Σ r_i·v_i</c>, which keeps its own (bit-for-bit) path.</summary>
    public bool IsPlain => Consensus == ConsensusMethod.None && !Normalize;
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

    /// <summary>mixed (already normalized when asked) for a chunk of <paramref name="length"/> elements.</summary>
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

    /// <summary>r·v over the chunk, zeros beyond what the vector covers (a zero is never kept, never counted).</summary>
    private static torch.Tensor Weighted(Contribution contribution, long length, torch.ScalarType accumulator, torch.Device device)
    {
        var values = contribution.Values.to(accumulator);
        long covered = values.NumberOfElements;
        if (covered > length) throw new ArgumentException($"a contribution of {covered} elements is longer than the chunk of {length}");
        var weighted = values.mul(contribution.Ratio);
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
        return total.ge(0).to(accumulator).mul_(2).sub_(1);
    }

    /// <summary>1 where sign(w_i) equals the elected sign (never for a zero), 0 elsewhere.</summary>
    private static List<torch.Tensor?> KeptMasks(List<torch.Tensor> weighted, torch.Tensor elected) =>
        weighted.Select(w => (torch.Tensor?)w.sign().eq(elected).to(w.dtype)).ToList();

    private static torch.Tensor KeptRatioSum(IReadOnlyList<Contribution> contributions, List<torch.Tensor?> kept, long length, torch.Device device)
    {
        var sum = torch.zeros(length, torch.float64, device);
        for (int i = 0; i < contributions.Count; i++) sum.add_(kept[i]!.to(torch.float64).mul(contributions[i].Ratio));
        return sum.masked_fill_(sum.eq(0), 1.0);
    }

    private static torch.Tensor CoveringRatioSum(IReadOnlyList<Contribution> contributions, long length, torch.Device device)
    {
        var sum = torch.zeros(length, torch.float64, device);
        foreach (var c in contributions) sum.narrow(0, 0, c.Values.NumberOfElements).add_(c.Ratio);
        return sum.masked_fill_(sum.abs().lt(NegligibleRatioSum), 1.0);
    }
}
