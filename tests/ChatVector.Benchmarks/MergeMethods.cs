using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;

namespace ChatVector.Benchmarks;

/// <summary>The merges measured, each built from the Core as the cmdlets build it.</summary>
internal enum MergeMethod
{
    /// <summary>cp + 1.0 · (chat − base): Get-ChatVector | Add-ChatVector -Model cp (the product's main path).</summary>
    Add,
    /// <summary>base + TIES of (chat − base, cp − base): Limit-ChatVector -Density 0.3 -Method Magnitude | Add-ChatVector -Model base -Consensus Sum -Normalize.</summary>
    Ties,
    /// <summary>The same with Limit-ChatVector -Method Random -Seed 42 (rescaled by 1/density).</summary>
    DareTies,
}

internal static class MergeMethods
{
    public const double Density = 0.3;
    public const long Seed = 42;

    public static readonly MergeMethod[] All = [MergeMethod.Add, MergeMethod.Ties, MergeMethod.DareTies];

    public static MergeMethod Parse(string name) => name.ToLowerInvariant() switch
    {
        "add" => MergeMethod.Add,
        "ties" => MergeMethod.Ties,
        "dare-ties" => MergeMethod.DareTies,
        _ => throw new ArgumentException($"unknown method '{name}' (add, ties, dare-ties)"),
    };

    public static string Name(MergeMethod method) => method switch
    {
        MergeMethod.Add => "add",
        MergeMethod.Ties => "ties",
        _ => "dare-ties",
    };

    /// <summary>What the pipeline of <paramref name="method"/> asks the Core for, over the trio in <paramref name="dir"/>.</summary>
    public static MergeRequest Request(string dir, MergeMethod method)
    {
        StoredModel Open(string name) => StoredModel.Open(Path.Combine(dir, name));
        if (method == MergeMethod.Add)
        {
            var pairing = ChatVectorPairing.Pair(Open("base"), Open("chat"), _ => true);
            return new MergeRequest(Open("cp"), pairing.Vectors.Select(v => new VectorInput(v, 1.0, v.Provenance)).ToList());
        }
        var @base = Open("base");
        var options = method == MergeMethod.Ties
            ? new SparsifyOptions(SparsifyMethod.Magnitude, Density, SparsifyOptions.DefaultGamma, SparsifyOptions.DefaultEpsilon, 0, Rescale: false)
            : new SparsifyOptions(SparsifyMethod.Random, Density, SparsifyOptions.DefaultGamma, SparsifyOptions.DefaultEpsilon, Seed, Rescale: true);
        var vectors = new[] { "chat", "cp" }
            .SelectMany(other => ChatVectorPairing.Pair(@base, Open(other), _ => true).Vectors)
            .Select(v => new VectorInput(new SparsifiedTensor(v, options), 1.0, v.Provenance))
            .ToList();
        return new MergeRequest(@base, vectors, Mixing: new MixOptions(ConsensusMethod.Sum, Normalize: true));
    }
}
