using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.LoraExport;

/// <summary>What to write for one tensor: its kind, the module it belongs to, and for a whole tensor the values' source.</summary>
public sealed record LoraPlanItem(ITensorSource Vector, LoraTensorKind Kind, string Module, string? Reason)
{
    /// <summary>For <see cref="LoraTensorKind.Whole"/>: the base weight the vector is added to; null when the source is already whole.</summary>
    public ITensorSource? Base { get; init; }

    public string Name => Vector.Name;
}

/// <summary>What an export of an adapter asks for (everything a plan and the writing need; nothing is read to plan).</summary>
public sealed record LoraExportRequest(
    string TargetFolder,
    IReadOnlyList<ITensorSource> Vectors,
    LoraRankRule Rank,
    Func<string, bool> Selects,
    EmbeddingMode Embeddings = EmbeddingMode.ModulesToSave,
    NormMode Norms = NormMode.Skip,
    bool Force = false,
    bool ExactSvd = false)
{
    /// <summary>The base weight of a vector tensor saved whole (<see cref="BaseWeights.Of"/>); null when unknown.</summary>
    public Func<ITensorSource, ITensorSource?> BaseOf { get; init; } = _ => null;

    /// <summary>The chat model's embedding/LM head tensors where the vocabularies differ: saved whole whatever the mode but Skip.</summary>
    public IReadOnlyList<ITensorSource> VocabularyMismatches { get; init; } = [];

    /// <summary>Extra string entries for the adapter file's metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>The base model named in adapter_config.json (base_model_name_or_path).</summary>
    public string? BaseModelPath { get; init; }
}

/// <summary>
/// Decides, from headers alone, what an adapter holds for each selected tensor, and refuses what cannot be
/// written before anything is: no weight to factor, a whole tensor whose base is unknown or of another shape.
/// </summary>
public static class LoraPlan
{
    private const string WeightSuffix = ".weight";

    public static IReadOnlyList<LoraPlanItem> Make(LoraExportRequest request)
    {
        request.Rank.Check();
        // A Conv1D model's weights are stored (in, out): PEFT would read an adapter of them as fan_in_fan_out, with A
        // (r, in) and B (out, r), which this exporter does not write yet; refused rather than written wrong.
        if (request.BaseModelPath is { } basePath && System.IO.Directory.Exists(basePath) && Lora.LoraAdapter.IsConv1DModel(Models.StoredModel.Open(basePath)))
            throw new ArgumentException($"{basePath} is a model of Conv1D weights (stored (in, out), as GPT-2's): Export-LoraAdapter writes adapters of nn.Linear weights (the LLaMA family's) only.");
        DuplicateTensorNamesException.ThrowIfAny(request.Vectors.Select(v => v.Name), "one vector");
        var mismatched = request.Embeddings == EmbeddingMode.Skip ? [] : request.VocabularyMismatches.Where(t => request.Selects(t.Name)).ToList();
        var items = request.Vectors.Where(v => request.Selects(v.Name) && mismatched.All(m => m.Name != v.Name))
            .Select(v => Decide(v, request)).ToList();
        foreach (var whole in mismatched)
            items.Add(new LoraPlanItem(whole, LoraTensorKind.Whole, ModuleOf(whole.Name), "the vocabularies differ, so only the chat model's whole tensor fits"));
        if (!items.Any(i => i.Kind is LoraTensorKind.Lora or LoraTensorKind.LoraEmbedding))
            throw new ArgumentException(request.Vectors.Count == 0
                ? "No vector tensors arrived: an adapter needs at least one 2-D weight."
                : $"None of the {items.Count} selected tensors is a 2-D weight to factor (of {request.Vectors.Count} on the pipeline): check -Include/-Exclude and -EmbeddingMode.");
        var unknownBase = items.Where(i => i is { Kind: LoraTensorKind.Whole, Base: null } && !mismatched.Contains(i.Vector)).Select(i => i.Name).ToList();
        if (unknownBase.Count > 0)
            throw new ArgumentException(
                $"modules_to_save holds whole weights (base + vector), and the base of {string.Join(", ", unknownBase.Take(5))}{(unknownBase.Count > 5 ? $" and {unknownBase.Count - 5} more" : "")} " +
                "is unknown (a saved vector whose base model is not at the path it recorded?): give -Base <model folder>, or leave them out with -EmbeddingMode Skip / -NormMode Skip.");
        foreach (var item in items.Where(i => i.Base is not null && !i.Base.Shape.SequenceEqual(i.Vector.Shape)))
            throw new ArgumentException(
                $"{item.Name}: the vector's shape [{string.Join(", ", item.Vector.Shape)}] differs from the base weight's [{string.Join(", ", item.Base!.Shape)}]: it was not taken against this base.");
        foreach (var item in items.Where(i => i.Base is not null && !i.Base.DType.IsComputable()))
            throw new ArgumentException($"{item.Name}: the base weight's dtype {item.Base!.DType} cannot be added to.");
        return items;
    }

    private static LoraPlanItem Decide(ITensorSource vector, LoraExportRequest request)
    {
        var name = vector.Name;
        var module = ModuleOf(name);
        if (!vector.DType.IsComputable() || vector.DType.IsIntegerOrBool())
            return Skipped(vector, module, $"its dtype {vector.DType} is not a vector's");
        if (HuggingFaceNames.IsEmbedding(name) && vector.Shape.Length == 2)
        {
            return request.Embeddings switch
            {
                EmbeddingMode.Skip => Skipped(vector, module, "-EmbeddingMode Skip"),
                EmbeddingMode.Lora => new LoraPlanItem(vector, HuggingFaceNames.IsLmHead(name) ? LoraTensorKind.Lora : LoraTensorKind.LoraEmbedding, module, null),
                _ => Whole(vector, module, request),
            };
        }
        if (vector.Shape.Length == 2)
        {
            return name.EndsWith(WeightSuffix, StringComparison.Ordinal)
                ? new LoraPlanItem(vector, LoraTensorKind.Lora, module, null)
                : Skipped(vector, module, "a 2-D tensor that is not a module's weight");
        }
        if (vector.Shape.Length == 1 && name.EndsWith(WeightSuffix, StringComparison.Ordinal))
            return request.Norms == NormMode.ModulesToSave ? Whole(vector, module, request) : Skipped(vector, module, "a 1-D weight (-NormMode Skip)");
        return Skipped(vector, module, vector.Shape.Length == 1
            ? "a bias: PEFT saves a whole module, and this one's weight is low-rank or unchanged"
            : $"a {vector.Shape.Length}-D tensor: neither a linear layer nor a norm");
    }

    private static LoraPlanItem Whole(ITensorSource vector, string module, LoraExportRequest request) =>
        new(vector, LoraTensorKind.Whole, module, null) { Base = request.BaseOf(vector) };

    private static LoraPlanItem Skipped(ITensorSource vector, string module, string reason) => new(vector, LoraTensorKind.Skipped, module, reason);

    /// <summary>The module a tensor belongs to: its name without the parameter's (<c>.weight</c>, <c>.bias</c>).</summary>
    public static string ModuleOf(string tensorName)
    {
        int dot = tensorName.LastIndexOf('.');
        return dot < 0 ? tensorName : tensorName[..dot];
    }

    /// <summary>The largest float32 matrix the export holds at once, in bytes: the memory bound's main term.</summary>
    public static long LargestFactoredBytes(IEnumerable<LoraPlanItem> items) =>
        items.Where(i => i.Kind is LoraTensorKind.Lora or LoraTensorKind.LoraEmbedding).Select(i => i.Vector.ElementCount * 4).DefaultIfEmpty(0).Max();
}
