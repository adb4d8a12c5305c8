using ChatVector.Core.Lora;
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
    /// <summary>cp + 1.0 · LoRA (rank 16 on every linear weight of the layers): Get-LoraVector -Base base | Add-ChatVector -Model cp.</summary>
    Lora,
    /// <summary>base + TIES of (chat − base, cp − base): Limit-ChatVector -Density 0.3 -Method Magnitude | Add-ChatVector -Model base -Consensus Sum -Normalize.</summary>
    Ties,
    /// <summary>The same with Limit-ChatVector -Method Random -Seed 42 (rescaled to the vector's L1 norm, the default).</summary>
    DareTies,
    /// <summary>The same with Limit-ChatVector -Method Breadcrumbs (gamma 0.01: two bounds of the magnitude order).</summary>
    BreadcrumbsTies,
    /// <summary>The same with Limit-ChatVector -Method Della -Seed 42 (epsilon 0.15: ranks within each row, rescaled).</summary>
    DellaTies,
}

internal static class MergeMethods
{
    public const double Density = 0.3;
    public const long Seed = 42;

    /// <summary>What a run without --methods measures; Breadcrumbs and DELLA (the other trims) on request.</summary>
    public static readonly MergeMethod[] All = [MergeMethod.Add, MergeMethod.Ties, MergeMethod.DareTies];

    private static readonly Dictionary<string, MergeMethod> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["add"] = MergeMethod.Add,
        ["lora"] = MergeMethod.Lora,
        ["ties"] = MergeMethod.Ties,
        ["dare-ties"] = MergeMethod.DareTies,
        ["breadcrumbs-ties"] = MergeMethod.BreadcrumbsTies,
        ["della-ties"] = MergeMethod.DellaTies,
    };

    public static MergeMethod Parse(string name) =>
        ByName.TryGetValue(name, out var method) ? method : throw new ArgumentException($"unknown method '{name}' ({string.Join(", ", ByName.Keys)})");

    public static string Name(MergeMethod method) => ByName.First(pair => pair.Value == method).Key;

    /// <summary>What the pipeline of <paramref name="method"/> asks the Core for, over the trio in <paramref name="dir"/>.</summary>
    public static MergeRequest Request(string dir, MergeMethod method)
    {
        StoredModel Open(string name) => StoredModel.Open(Path.Combine(dir, name));
        if (method == MergeMethod.Add)
        {
            var pairing = ChatVectorPairing.Pair(Open("base"), Open("chat"), _ => true);
            return new MergeRequest(Open("cp"), pairing.Vectors.Select(v => new VectorInput(v, 1.0, v.Provenance)).ToList());
        }
        if (method == MergeMethod.Lora)
        {
            var adapter = LoraAdapter.Open(LoraBenchAdapter.PathIn(dir));
            var baseModel = Open("base");
            var provenance = adapter.ProvenanceOn(baseModel);
            return new MergeRequest(Open("cp"), LoraVectors.Of(adapter, baseModel, provenance, _ => true).Select(v => new VectorInput(v, 1.0, provenance)).ToList());
        }
        var @base = Open("base");
        var trim = method switch
        {
            MergeMethod.Ties => SparsifyMethod.Magnitude,
            MergeMethod.DareTies => SparsifyMethod.Random,
            MergeMethod.BreadcrumbsTies => SparsifyMethod.Breadcrumbs,
            _ => SparsifyMethod.Della,
        };
        bool random = trim is SparsifyMethod.Random or SparsifyMethod.Della;
        var options = new SparsifyOptions(trim, Density, SparsifyOptions.DefaultGamma, SparsifyOptions.DefaultEpsilon, random ? Seed : 0,
            Rescale: SparsifyOptions.RescalesByDefault(trim), Norm: RescaleNorm.L1); // Limit-ChatVector's default, mergekit's rule
        var vectors = new[] { "chat", "cp" }
            .SelectMany(other => ChatVectorPairing.Pair(@base, Open(other), _ => true).Vectors)
            .Select(v => new VectorInput(new SparsifiedTensor(v, options), 1.0, v.Provenance))
            .ToList();
        return new MergeRequest(@base, vectors, Mixing: new MixOptions(ConsensusMethod.Sum, Normalize: true));
    }
}
