using ChatVector.Core.Format;
using ChatVector.Core.Lora;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Config;

/// <summary>
/// The adapters of a config's <c>model+lora</c> references, opened once per (model, adapter) and checked against their
/// model before anything is read; and a model's tensor as the config means it: the stored tensor with the adapter
/// applied (model + scaling·B·A in float32), or the adapter's saved whole tensor, or the stored tensor.
/// </summary>
internal sealed class ConfigAdapters
{
    private readonly Dictionary<(string Model, string Adapter), LoraAdapter> _adapters = new();

    /// <summary>Opens and checks the adapters of <paramref name="models"/>, each problem (a misfit, a refused adapter) into <paramref name="problems"/>.</summary>
    /// <param name="warnings">Where the adapters' warnings go (fan_in_fan_out read otherwise, modules left out), for the plan's warnings.</param>
    public static ConfigAdapters Open(IEnumerable<ConfigModel> models, Func<ConfigModel, StoredModel> open, List<string> problems, List<string> warnings, string role = "model")
    {
        var adapters = new ConfigAdapters();
        foreach (var model in models.Where(m => m.LoraPath is not null).DistinctBy(m => (m.Path, m.LoraPath)))
            try
            {
                var adapter = LoraAdapter.Open(model.LoraPath!).FitTo(open(model));
                adapters._adapters[(model.Path, model.LoraPath!)] = adapter;
                warnings.AddRange(adapter.Warnings);
            }
            catch (InputRuleException e)
            {
                problems.Add($"{role} '{model.Reference}': {e.Message}");
            }
        return adapters;
    }

    /// <summary>The tensor <paramref name="stored"/> of <paramref name="model"/> under <paramref name="outputName"/>, with the model's adapter applied where it touches it.</summary>
    public ITensorSource Tensor(ConfigModel model, StoredTensor stored, string outputName)
    {
        var asStored = new StoredTensorSource(Renamed(stored, outputName));
        if (model.LoraPath is null || !_adapters.TryGetValue((model.Path, model.LoraPath), out var adapter)) return asStored;
        if (adapter.Modules.FirstOrDefault(m => m.Target == stored.Name) is { } module) return new LoraAppliedTensor(asStored, new LoraDeltaTensor(module));
        if (adapter.Wholes.FirstOrDefault(w => w.Target == stored.Name) is { } whole) return new StoredTensorSource(Renamed(whole.Stored, outputName));
        return asStored;
    }

    /// <summary>The tensors of <paramref name="model"/> its adapter touches, by name (none without one).</summary>
    public IEnumerable<string> Touched(ConfigModel model) =>
        model.LoraPath is not null && _adapters.TryGetValue((model.Path, model.LoraPath), out var adapter)
            ? adapter.Modules.Select(m => m.Target).Concat(adapter.Wholes.Select(w => w.Target))
            : [];

    private static StoredTensor Renamed(StoredTensor stored, string name) => stored.Name == name ? stored : stored with { Info = stored.Info with { Name = name } };
}
