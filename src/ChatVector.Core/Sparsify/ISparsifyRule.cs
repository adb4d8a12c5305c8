using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// One sparsification rule (one file each: <see cref="MagnitudeTrim"/>, <see cref="RandomDrop"/>, <see cref="DellaDrop"/>),
/// made for one vector tensor: the whole-tensor statistics it needs before its first chunk, and its per-chunk mask.
/// <see cref="SparsifiedTensor"/> runs it: it reads the chunks, and the statistics' passes over them.
/// </summary>
public interface ISparsifyRule
{
    /// <summary>The rule ranks each row as a whole (the last dimension): a chunk is computed from the whole rows it touches.</summary>
    bool RanksRows { get; }

    /// <summary>The rule reads the whole vector before its first chunk (<see cref="GatherStatistics"/>), so its inputs are read twice.</summary>
    bool HasStatistics { get; }

    /// <summary>Gathers the statistics once per tensor (later calls return at once; a failed or cancelled gathering is retried).</summary>
    void GatherStatistics(ComputeContext context);

    /// <summary>Masks elements [<paramref name="firstElement"/>, + values.Length) in place (whole rows when <see cref="RanksRows"/>).</summary>
    void Apply(Span<float> values, long firstElement, ComputeContext context);

    /// <inheritdoc cref="Apply(Span{float}, long, ComputeContext)"/>
    void Apply(Span<double> values, long firstElement, ComputeContext context);
}

/// <summary>What a rule knows of the vector tensor it is made for.</summary>
/// <param name="RowLength">The last dimension (a 1-D tensor is one row; a scalar is a row of one).</param>
/// <param name="ReadKeys">The magnitude keys (<see cref="MagnitudeOrder"/>) of elements [start, start + keys.Length), for statistics' passes.</param>
/// <param name="SelectionChunkElements">Elements per read in a statistics pass.</param>
public sealed record SparsifyTarget(string Name, long ElementCount, long RowLength,
    SparsifyTarget.KeyReader ReadKeys, int SelectionChunkElements)
{
    public delegate void KeyReader(long start, Span<uint> keys, ComputeContext context);
}

/// <summary>The rule of each <see cref="SparsifyMethod"/>.</summary>
public static class SparsifyRules
{
    public static ISparsifyRule Create(SparsifyOptions options, SparsifyTarget target) => options.Method switch
    {
        SparsifyMethod.Magnitude or SparsifyMethod.Breadcrumbs => new MagnitudeTrim(options, target),
        SparsifyMethod.Random => new RandomDrop(options, target),
        SparsifyMethod.Della => new DellaDrop(options, target),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "unknown sparsification method"),
    };
}
