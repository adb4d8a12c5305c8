using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Lora;

/// <summary>
/// An adapter as vectors that pair by name with a model's tensors: each module's scaling·B·A under the model weight's
/// name, and each tensor the adapter stores whole as its difference from the model's (saved − model), so that adding the
/// vector at ratio 1 replaces the tensor. Tensors the adapter does not touch have no vector: they pass through a merge.
/// </summary>
public static class LoraVectors
{
    /// <summary>
    /// The vectors of <paramref name="adapter"/> against <paramref name="base"/>, the model it was trained on, in the base's
    /// tensor order; <paramref name="include"/> filters by the model's tensor names. <paramref name="adapter"/> is fitted to the
    /// base (<see cref="LoraAdapter.FitTo"/>: checked, its warnings with the caller).
    /// </summary>
    public static IReadOnlyList<ITensorSource> Of(LoraAdapter adapter, StoredModel @base, VectorProvenance provenance, Func<string, bool> include)
    {
        var vectors = new List<(string Name, ITensorSource Vector)>();
        foreach (var module in adapter.Modules.Where(m => include(m.Target)))
            vectors.Add((module.Target, new LoraDeltaTensor(module)));
        foreach (var whole in adapter.Wholes.Where(w => include(w.Target)))
            vectors.Add((whole.Target, Replacement(whole, @base, provenance)));
        var order = @base.Tensors.Select((t, i) => (t.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        return vectors.OrderBy(v => order[v.Name]).Select(v => v.Vector).ToList();
    }

    /// <summary>
    /// The task vectors of <c>model+lora</c> against <paramref name="base"/>, by name: <paramref name="modelVectors"/> (model − base,
    /// by name) with each tensor the adapter touches replaced by (model + scaling·B·A) − base, or just the delta when the model is the
    /// base; a whole tensor by saved − base. <paramref name="adapter"/> is fitted to <paramref name="model"/> (<see cref="LoraAdapter.FitTo"/>).
    /// </summary>
    public static Dictionary<string, ITensorSource> OnModel(LoraAdapter adapter, StoredModel model, StoredModel @base,
        IReadOnlyDictionary<string, ITensorSource> modelVectors, VectorProvenance provenance)
    {
        bool modelIsBase = SamePath(model.Path, @base.Path);
        var vectors = new Dictionary<string, ITensorSource>(modelVectors, StringComparer.Ordinal);
        foreach (var module in adapter.Modules)
        {
            if (@base.Find(module.Target) is not { } baseTensor || !vectors.ContainsKey(module.Target)) continue; // the pairing reported it
            var delta = new LoraDeltaTensor(module);
            vectors[module.Target] = modelIsBase
                ? delta
                : new ChatVectorTensor(new LoraAppliedTensor(new StoredTensorSource(model.Find(module.Target)!), delta), new StoredTensorSource(baseTensor), provenance);
        }
        foreach (var whole in adapter.Wholes.Where(w => vectors.ContainsKey(w.Target)))
            vectors[whole.Target] = Replacement(whole, @base, provenance);
        return vectors;
    }

    /// <summary>saved − base under the model's name: a chat vector whose chat side is the adapter's tensor.</summary>
    private static ChatVectorTensor Replacement(LoraWholeTensor whole, StoredModel @base, VectorProvenance provenance)
    {
        var saved = new StoredTensor(whole.Stored.File, whole.Stored.Info with { Name = whole.Target });
        return new ChatVectorTensor(new StoredTensorSource(saved), new StoredTensorSource(@base.Find(whole.Target)!), provenance);
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
