using System.Globalization;
using ChatVector.Core.Config;
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
    // The methods run only from a mergekit config (Import-MergeConfig), each from the config MergeMethods.ConfigText writes.
    /// <summary>slerp from chat to cp at t 0.5 (two inputs).</summary>
    Slerp,
    /// <summary>nuslerp of chat − base and cp − base, weights 0.5 and 0.5 (each tensor flattened).</summary>
    NuSlerp,
    /// <summary>multislerp of chat and cp about base, weights 0.5 and 0.5.</summary>
    MultiSlerp,
    /// <summary>karcher: the Karcher mean of base, chat and cp (mergekit adds the base to the models), 10 iterations at most.</summary>
    Karcher,
    /// <summary>model_stock of chat and cp onto base (one angle per tensor).</summary>
    ModelStock,
    /// <summary>nearswap of chat toward cp, t 0.001 (two inputs).</summary>
    NearSwap,
    /// <summary>arcee_fusion of cp into chat (two inputs).</summary>
    ArceeFusion,
    /// <summary>sce of chat and cp onto base, select_topk 0.3.</summary>
    Sce,
    /// <summary>ram of chat and cp onto base.</summary>
    Ram,
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
        ["slerp"] = MergeMethod.Slerp,
        ["nuslerp"] = MergeMethod.NuSlerp,
        ["multislerp"] = MergeMethod.MultiSlerp,
        ["karcher"] = MergeMethod.Karcher,
        ["model_stock"] = MergeMethod.ModelStock,
        ["nearswap"] = MergeMethod.NearSwap,
        ["arcee_fusion"] = MergeMethod.ArceeFusion,
        ["sce"] = MergeMethod.Sce,
        ["ram"] = MergeMethod.Ram,
    };

    /// <summary>The methods a run with --methods config measures: every one run from a mergekit config.</summary>
    public static readonly MergeMethod[] FromConfig =
    [
        MergeMethod.Slerp, MergeMethod.NuSlerp, MergeMethod.MultiSlerp, MergeMethod.Karcher, MergeMethod.ModelStock,
        MergeMethod.NearSwap, MergeMethod.ArceeFusion, MergeMethod.Sce, MergeMethod.Ram,
    ];

    public static MergeMethod Parse(string name) =>
        ByName.TryGetValue(name, out var method) ? method : throw new ArgumentException($"unknown method '{name}' ({string.Join(", ", ByName.Keys)}, config)");

    /// <summary>The methods of a --methods list; <c>config</c> stands for every method of <see cref="FromConfig"/>.</summary>
    public static MergeMethod[] ParseList(string list) =>
        list.Split(',').SelectMany(name => name.Equals("config", StringComparison.OrdinalIgnoreCase) ? FromConfig : [Parse(name)]).Distinct().ToArray();

    public static bool RunsFromConfig(MergeMethod method) => FromConfig.Contains(method);

    /// <summary>
    /// The lazy outputs of <paramref name="method"/> over the trio in <paramref name="dir"/>, planned as its cmdlets plan
    /// them (a config method: read and planned as Import-MergeConfig does), and the model whose side files the output gets.
    /// </summary>
    public static (IReadOnlyList<ITensorSource> Outputs, StoredModel SideFilesFrom) Plan(string dir, MergeMethod method)
    {
        if (RunsFromConfig(method))
        {
            var plan = ConfigMerge.Plan(MergeConfig.Read(ConfigPath(dir, method)));
            return (plan.Outputs, plan.Base);
        }
        var request = Request(dir, method);
        return (MergePlanner.Plan(request).Outputs, request.Model);
    }

    /// <summary>The trio's config for <paramref name="method"/> (written the first time), which the pwsh run imports too.</summary>
    public static string ConfigPath(string dir, MergeMethod method)
    {
        var path = Path.Combine(dir, $"{Name(method)}.yml");
        if (!File.Exists(path)) File.WriteAllText(path, ConfigText(method));
        return path;
    }

    /// <summary>
    /// The mergekit config of a config method over the trio's base, chat and cp (paths relative to the trio's folder).
    /// Two-model methods interpolate the two fine-tunes; the others merge both onto the base, as mergekit's own
    /// test configs do.
    /// </summary>
    private static string ConfigText(MergeMethod method)
    {
        static string Header(string name, string @base) => $"merge_method: {name}\nbase_model: {@base}\ndtype: bfloat16\n";
        const string TwoFineTunes = "models:\n  - model: cp\n";
        const string Weighted = "models:\n  - model: chat\n    parameters:\n      weight: 0.5\n  - model: cp\n    parameters:\n      weight: 0.5\n";
        const string Both = "models:\n  - model: chat\n  - model: cp\n";
        string Parameters(string name, object value) => string.Create(CultureInfo.InvariantCulture, $"parameters:\n  {name}: {value}\n");
        return method switch
        {
            MergeMethod.Slerp => Header("slerp", "chat") + TwoFineTunes + Parameters("t", 0.5),
            MergeMethod.NearSwap => Header("nearswap", "chat") + TwoFineTunes + Parameters("t", 0.001),
            MergeMethod.ArceeFusion => Header("arcee_fusion", "chat") + TwoFineTunes,
            MergeMethod.NuSlerp => Header("nuslerp", "base") + Weighted,
            MergeMethod.MultiSlerp => Header("multislerp", "base") + Weighted,
            MergeMethod.Karcher => Header("karcher", "base") + Both,
            MergeMethod.ModelStock => Header("model_stock", "base") + Both,
            MergeMethod.Sce => Header("sce", "base") + Both + Parameters("select_topk", 0.3),
            MergeMethod.Ram => Header("ram", "base") + Both,
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "not a config method"),
        };
    }

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
            var baseModel = Open("base");
            var adapter = LoraAdapter.Open(LoraBenchAdapter.PathIn(dir)).FitTo(baseModel);
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
