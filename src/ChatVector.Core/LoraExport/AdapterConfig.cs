using ChatVector.Core.Format;
using ChatVector.Core.Lora;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.LoraExport;

/// <summary>
/// The keys of a PEFT <c>adapter_config.json</c> an extracted adapter sets. Scaling is 1 everywhere: <c>r</c> and
/// <c>lora_alpha</c> are the largest rank written, and every module written at a smaller rank gets that rank as both
/// its <c>rank_pattern</c> and its <c>alpha_pattern</c> entry (keys are full module names, which PEFT matches
/// against the end of a module's name). What it writes is what <see cref="LoraAdapterConfig.Read"/> reads back: the file
/// name and the PEFT type are that reader's, and its matching rules (a target by its last dotted parts, a pattern key at
/// the end of a module name) are the ones the names written here rely on.
/// </summary>
public sealed record AdapterConfig(
    int Rank,
    IReadOnlyList<string> TargetModules,
    IReadOnlyDictionary<string, int> RankPattern,
    IReadOnlyList<string> ModulesToSave,
    string? BaseModelPath)
{
    public const string FileName = LoraAdapterConfig.FileName;

    /// <summary>The config for modules written at the given ranks (module name → rank), with whole modules saved beside them.</summary>
    public static AdapterConfig For(IReadOnlyDictionary<string, int> moduleRanks, IReadOnlyList<string> modulesToSave, string? baseModelPath)
    {
        int rank = moduleRanks.Count == 0 ? 1 : moduleRanks.Values.Max();
        var targets = moduleRanks.Keys.Select(LeafName).Distinct().Order(StringComparer.Ordinal).ToList();
        var pattern = moduleRanks.Where(m => m.Value != rank).OrderBy(m => m.Key, StringComparer.Ordinal).ToDictionary(m => m.Key, m => m.Value);
        var saved = modulesToSave.Select(LeafName).Distinct().Order(StringComparer.Ordinal).ToList();
        return new AdapterConfig(rank, targets, pattern, saved, baseModelPath);
    }

    /// <summary>The last dotted part of a module name (<c>q_proj</c> of <c>model.layers.0.self_attn.q_proj</c>).</summary>
    public static string LeafName(string module) => module[(module.LastIndexOf('.') + 1)..];

    public string ToJson()
    {
        var rankPattern = new JObject(RankPattern.Select(p => new JProperty(p.Key, p.Value)));
        var config = new JObject
        {
            ["peft_type"] = LoraAdapterConfig.LoraPeftType,
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = BaseModelPath,
            ["r"] = Rank,
            ["lora_alpha"] = Rank,
            ["lora_dropout"] = 0.0,
            ["use_rslora"] = false,
            ["use_dora"] = false,
            ["fan_in_fan_out"] = false,
            ["bias"] = "none",
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["target_modules"] = new JArray(TargetModules),
            ["rank_pattern"] = rankPattern,
            ["alpha_pattern"] = rankPattern.DeepClone(),
            ["modules_to_save"] = ModulesToSave.Count == 0 ? null : new JArray(ModulesToSave),
            ["layers_to_transform"] = null,
            ["layers_pattern"] = null,
        };
        // PortableText writes '\n' line ends, so the adapter has the same bytes on Windows.
        return PortableText.IndentedJson(config) + "\n";
    }
}
