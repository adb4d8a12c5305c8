using ChatVector.Core.Models;
using ChatVector.TestKit;

namespace ChatVector.Benchmarks;

/// <summary>
/// The adapter the lora merge applies: rank 16 (alpha 32) on every linear weight of the trio base's layers, in PEFT's layout,
/// written beside the trio once (not timed). Its values do not matter to the speed; its shapes and rank do.
/// </summary>
internal static class LoraBenchAdapter
{
    public const int Rank = 16;
    private static readonly string[] Modules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public static string PathIn(string dir) => Path.Combine(dir, "adapter");

    public static void Ensure(string dir)
    {
        var folder = PathIn(dir);
        if (File.Exists(Path.Combine(folder, "adapter_model.safetensors"))) return;
        var tensors = new List<PeftTensor>();
        int seed = 0;
        foreach (var weight in StoredModel.Open(Path.Combine(dir, "base")).Tensors)
        {
            var name = weight.Name;
            if (!name.EndsWith(".weight", StringComparison.Ordinal) || weight.Info.Shape.Length != 2 || !Modules.Any(m => name.EndsWith($".{m}.weight", StringComparison.Ordinal))) continue;
            var module = name[..^".weight".Length];
            long outFeatures = weight.Info.Shape[0], inFeatures = weight.Info.Shape[1];
            tensors.Add(new PeftTensor(PeftAdapterFolder.LoraA(module), [Rank, inFeatures], PeftAdapterFolder.Factor(Rank, inFeatures, ++seed, 0.02f)));
            tensors.Add(new PeftTensor(PeftAdapterFolder.LoraB(module), [outFeatures, Rank], PeftAdapterFolder.Factor(outFeatures, Rank, ++seed, 0.002f)));
        }
        PeftAdapterFolder.Write(folder, PeftAdapterFolder.Config(Rank, 2 * Rank, Modules), tensors);
    }
}
