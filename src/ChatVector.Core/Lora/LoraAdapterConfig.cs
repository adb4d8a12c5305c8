using System.Globalization;
using System.Text.RegularExpressions;
using ChatVector.Core.Format;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Lora;

/// <summary>
/// A PEFT LoRA adapter's <c>adapter_config.json</c>, as far as it decides the weights: the rank and alpha (with their
/// per-module patterns), how alpha becomes the scaling (<c>use_rslora</c>), the layout of the stored factors
/// (<c>fan_in_fan_out</c>), which modules it targets (<see cref="Select"/>) and which it saves whole. Read and checked by
/// <see cref="Read"/>; built directly by a writer (every property has PEFT's default). No JSON library type appears here.
/// </summary>
public sealed partial record LoraAdapterConfig
{
    public const string FileName = "adapter_config.json";
    public const string LoraPeftType = "LORA";

    public string PeftType { get; init; } = LoraPeftType;
    /// <summary><c>r</c>: the rank of every module the rank pattern does not name.</summary>
    public int Rank { get; init; } = 8;
    /// <summary><c>lora_alpha</c>: the alpha of every module the alpha pattern does not name.</summary>
    public double Alpha { get; init; } = 8;
    /// <summary><c>use_rslora</c>: scaling alpha/√r instead of alpha/r.</summary>
    public bool UseRsLora { get; init; }
    /// <summary><c>fan_in_fan_out</c>: the target stores its weight as (in, out) (GPT-2's Conv1D), so the delta is (B·A)ᵀ.</summary>
    public bool FanInFanOut { get; init; }
    /// <summary><c>target_modules</c> as a list (a name matches exactly or as its last dotted parts); null when absent or a regex.</summary>
    public IReadOnlyList<string>? TargetModules { get; init; }
    /// <summary><c>target_modules</c> as a string: a regular expression a whole module name matches.</summary>
    public string? TargetModulesRegex { get; init; }
    /// <summary><c>layers_to_transform</c>: the only layers a list of <c>target_modules</c> applies to; null for every layer.</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }
    /// <summary>
    /// <c>layers_pattern</c>: the module lists (regular expressions, as "layers" or "h") whose index is the layer number
    /// <c>layers_to_transform</c> counts, tried in order; null (PEFT's None, "" or []) for the first numbered part of a name.
    /// </summary>
    public IReadOnlyList<string>? LayersPattern { get; init; }
    /// <summary><c>exclude_modules</c> as a list: modules never targeted (a name matches exactly or as its last dotted parts); empty when absent or a regex.</summary>
    public IReadOnlyList<string> ExcludeModules { get; init; } = [];
    /// <summary><c>exclude_modules</c> as a string: a regular expression a whole module name matches to be left out; null when absent, empty or a list.</summary>
    public string? ExcludeModulesRegex { get; init; }
    /// <summary><c>rank_pattern</c>: per-module ranks; a key (a regular expression) matches the end of a module name after a dot.</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();
    /// <summary><c>alpha_pattern</c>: per-module alphas, matched as <see cref="RankPattern"/>.</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();
    /// <summary><c>modules_to_save</c>: modules stored whole in the adapter, replacing the model's.</summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];
    /// <summary><c>bias</c>: none, all or lora_only; with all or lora_only the adapter stores trained biases whole.</summary>
    public string Bias { get; init; } = "none";
    /// <summary><c>use_dora</c>: DoRA, refused (its change is not additive).</summary>
    public bool UseDora { get; init; }
    /// <summary><c>base_model_name_or_path</c>: the model the adapter was trained on, as its trainer named it.</summary>
    public string? BaseModelNameOrPath { get; init; }
    /// <summary><c>task_type</c> (CAUSAL_LM for a language model).</summary>
    public string? TaskType { get; init; }
    /// <summary>The file it was read from, for a problem found only when a module is selected; adapter_config.json when built directly.</summary>
    public string Source { get; init; } = FileName;

    /// <summary>Keys whose non-default value means a change that is not scaling·B·A or a saved tensor: refused by name.</summary>
    private static readonly string[] NotAdditiveKeys = ["lora_bias", "trainable_token_indices", "target_parameters", "layer_replication", "alora_invocation_tokens"];

    /// <summary>Reads and checks <paramref name="path"/>; every problem is a <see cref="LoraAdapterException"/> naming the key.</summary>
    public static LoraAdapterConfig Read(string path)
    {
        if (!File.Exists(path)) throw new LoraAdapterException(LoraAdapterRule.AdapterConfigMissing, path, "no such file; a PEFT adapter folder holds adapter_config.json beside its weights");
        var json = JsonProblems.ReadObjectFile(path, (detail, inner) => new LoraAdapterException(LoraAdapterRule.AdapterConfigInvalid, path, detail, null, inner));
        var reader = new Reader(path, json);
        var peftType = reader.String("peft_type") ?? throw Invalid(path, "'peft_type' is missing; a LoRA adapter's config says \"peft_type\": \"LORA\"");
        if (!string.Equals(peftType, LoraPeftType, StringComparison.OrdinalIgnoreCase))
            throw new LoraAdapterException(LoraAdapterRule.AdapterNotLora, path, $"'peft_type' is '{peftType}'; only LoRA adapters (LORA) are read");
        if (reader.Bool("use_dora") == true)
            throw new LoraAdapterException(LoraAdapterRule.DoraNotAdditive, path,
                "'use_dora' is true: DoRA rescales every row of the weight by a learned magnitude, so its change depends on the weight and is not a vector to add; merge it with PEFT (merge_and_unload) instead");
        foreach (var key in NotAdditiveKeys.Where(reader.IsSet))
            throw new LoraAdapterException(LoraAdapterRule.AdapterFeatureNotSupported, path,
                $"'{key}' is set: its change to the weights is not scaling·B·A or a saved tensor, which is all ChatVector applies; merge it with PEFT instead");
        var (targetList, targetRegex) = reader.NamesOrPattern("target_modules");
        var (excludeList, excludeRegex) = reader.NamesOrPattern("exclude_modules");
        var (layerLists, layerList) = reader.NamesOrPattern("layers_pattern", "a module list's name (a regular expression) or a list of them");
        var config = new LoraAdapterConfig
        {
            Source = path,
            PeftType = LoraPeftType,
            Rank = reader.Int("r") ?? 8,
            Alpha = reader.Number("lora_alpha") ?? 8,
            UseRsLora = reader.Bool("use_rslora") ?? false,
            FanInFanOut = reader.Bool("fan_in_fan_out") ?? false,
            TargetModules = targetList,
            TargetModulesRegex = targetRegex,
            LayersToTransform = json["layers_to_transform"] switch
            {
                null or { Type: JTokenType.Null } => null,
                JValue one when ListedLayer(one) is { } layer => [layer],
                JArray { Count: 0 } => null, // PEFT: an empty list restricts nothing
                JArray many when many.All(v => ListedLayer(v) is not null) => many.Select(v => ListedLayer(v)!.Value).ToList(),
                JArray many => throw Invalid(path, $"'layers_to_transform' must be a layer number or a list of them; {many.First(v => ListedLayer(v) is null).ToString(Newtonsoft.Json.Formatting.None)} is not a layer number"),
                var other => throw Invalid(path, $"'layers_to_transform' must be a layer number or a list of them, not {other.ToString(Newtonsoft.Json.Formatting.None)}"),
            },
            // PEFT tests the key's length: "" and [] are None; [""] is a pattern (an empty list name).
            LayersPattern = layerLists is { Count: > 0 } ? layerLists : layerList is { Length: > 0 } ? [layerList] : null,
            // PEFT tests the key's truth: an empty string or list excludes nothing.
            ExcludeModules = excludeList ?? [],
            ExcludeModulesRegex = excludeRegex is "" ? null : excludeRegex,
            RankPattern = reader.Pattern<int>("rank_pattern", v => v.Type == JTokenType.Integer && (long)v > 0 && (long)v <= int.MaxValue ? (int)(long)v : (int?)null, "a positive whole number"),
            AlphaPattern = reader.Pattern<double>("alpha_pattern", v => v.Type is JTokenType.Integer or JTokenType.Float ? (double)v : (double?)null, "a number"),
            ModulesToSave = reader.Strings("modules_to_save") ?? [],
            Bias = reader.String("bias") ?? "none",
            BaseModelNameOrPath = reader.String("base_model_name_or_path"),
            TaskType = reader.String("task_type"),
        };
        if (config.Rank <= 0) throw Invalid(path, $"'r' is {config.Rank}; a rank is a positive whole number");
        if (config.Bias is not ("none" or "all" or "lora_only")) throw Invalid(path, $"'bias' is '{config.Bias}'; PEFT knows none, all and lora_only");
        CheckLayerKeys(path, config, reader.Has("layers_to_transform"), reader.Has("layers_pattern"));
        foreach (var key in config.RankPattern.Keys.Concat(config.AlphaPattern.Keys).Concat(config.TargetModulesRegex is { } r ? [r] : []).Concat(config.ExcludeModulesRegex is { } x ? [x] : []))
            if (!IsValidPattern(key)) throw Invalid(path, $"'{key}' (in target_modules, exclude_modules, rank_pattern or alpha_pattern) is not a valid regular expression");
        return config;
    }

    /// <summary>A whole number of int's range (a JSON number beyond it would not convert, and no model has that many layers).</summary>
    private static int? ListedLayer(JToken value) =>
        value is JValue { Type: JTokenType.Integer, Value: long n } && n is >= int.MinValue and <= int.MaxValue ? (int)n : null;

    /// <summary>
    /// The checks PEFT's LoraConfig makes of the layer keys when it reads the file: a regular expression of
    /// target_modules takes neither (given at all, even empty: PEFT tests whether they are None), layers_pattern (a
    /// non-empty one) needs layers_to_transform, and each of its entries must make PEFT's layer expression.
    /// </summary>
    private static void CheckLayerKeys(string path, LoraAdapterConfig config, bool layersGiven, bool patternGiven)
    {
        if (config.TargetModulesRegex is not null && layersGiven)
            throw Invalid(path, "'layers_to_transform' is given with target_modules as a regular expression; PEFT refuses the pair (put the layers in the expression)");
        if (config.TargetModulesRegex is not null && patternGiven)
            throw Invalid(path, "'layers_pattern' is given with target_modules as a regular expression; PEFT refuses the pair (put the layers in the expression)");
        if (config.LayersPattern is not null && !layersGiven)
            throw Invalid(path, "'layers_pattern' is given without layers_to_transform; PEFT refuses it (it only says where layers_to_transform's layer numbers are)");
        foreach (var layersPattern in config.LayersPattern ?? [])
            if (LayersPatternProblem(layersPattern) is { } problem) throw Invalid(path, problem);
    }

    /// <summary>The rank of <paramref name="module"/> (a module name of the model, as <c>model.layers.0.self_attn.q_proj</c>).</summary>
    public int RankOf(string module) => PatternKey(RankPattern.Keys, module) is { } key ? RankPattern[key] : Rank;

    /// <summary>The alpha of <paramref name="module"/>.</summary>
    public double AlphaOf(string module) => PatternKey(AlphaPattern.Keys, module) is { } key ? AlphaPattern[key] : Alpha;

    /// <summary>The factor ΔW = scaling·B·A carries for <paramref name="module"/>: alpha/r, or alpha/√r with rsLoRA.</summary>
    public double ScalingOf(string module)
    {
        double rank = RankOf(module), alpha = AlphaOf(module);
        return UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    /// <summary>Whether <paramref name="module"/> is one of <see cref="ModulesToSave"/> (the name, or its last dotted parts).</summary>
    public bool SavesWhole(string module) => ModulesToSave.Any(saved => EndsWithParts(module, saved));

    /// <summary>
    /// The first pattern key (in the file's order) that matches the end of <paramref name="module"/> at a dot boundary, as
    /// PEFT resolves rank_pattern and alpha_pattern; null when none does.
    /// </summary>
    private static string? PatternKey(IEnumerable<string> keys, string module) =>
        keys.FirstOrDefault(key => Regex.IsMatch(module, $"^(.*\\.)?({DotNetPattern(key)})$", RegexOptions.CultureInvariant, MatchTimeout));

    /// <summary>Python's re.fullmatch: the whole name, with no newline allowed at its end (which .NET's $ would allow).</summary>
    private static bool FullMatch(string pattern, string module) =>
        Regex.IsMatch(module, $@"\A(?:{DotNetPattern(pattern)})\z", RegexOptions.CultureInvariant, MatchTimeout);

    /// <summary>
    /// A pattern written for Python's re (PEFT's) in .NET's syntax: named groups (?P&lt;name&gt;…) and their
    /// references (?P=name) are the only forms the two spell differently.
    /// </summary>
    private static string DotNetPattern(string python) =>
        Regex.Replace(python.Replace("(?P<", "(?<", StringComparison.Ordinal), @"\(\?P=(\w+)\)", @"\k<$1>");

    private static bool EndsWithParts(string module, string parts) =>
        module == parts || module.EndsWith("." + parts, StringComparison.Ordinal);

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    private static bool IsValidPattern(string pattern)
    {
        try { _ = new Regex(DotNetPattern(pattern), RegexOptions.CultureInvariant, MatchTimeout); return true; }
        catch (ArgumentException) { return false; }
    }

    private static LoraAdapterException Invalid(string path, string detail) => new(LoraAdapterRule.AdapterConfigInvalid, path, detail);

    /// <summary>Typed reads of the config's keys: absent or null is the default; any other kind is an error naming the key.</summary>
    private sealed class Reader(string path, JObject json)
    {
        private JToken? Value(string key) => json[key] is { Type: not JTokenType.Null } value ? value : null;

        /// <summary>Whether the key is given, with any value but null (PEFT's "is not None").</summary>
        public bool Has(string key) => Value(key) is not null;

        public bool IsSet(string key) => Value(key) switch
        {
            null => false,
            { Type: JTokenType.Boolean } flag => (bool)flag,
            JArray list => list.Count > 0,
            JObject map => map.Count > 0,
            _ => true,
        };

        public string? String(string key) => Value(key) switch
        {
            null => null,
            { Type: JTokenType.String } s => (string)s!,
            var other => throw Wrong(key, other, "a string"),
        };

        public bool? Bool(string key) => Value(key) switch
        {
            null => null,
            { Type: JTokenType.Boolean } b => (bool)b,
            var other => throw Wrong(key, other, "true or false"),
        };

        public int? Int(string key) => Value(key) switch
        {
            null => null,
            { Type: JTokenType.Integer } i when (long)i is >= int.MinValue and <= int.MaxValue => (int)(long)i,
            var other => throw Wrong(key, other, "a whole number"),
        };

        public double? Number(string key) => Value(key) switch
        {
            null => null,
            { Type: JTokenType.Integer or JTokenType.Float } n when double.IsFinite((double)n) => (double)n,
            var other => throw Wrong(key, other, "a number"),
        };

        public IReadOnlyList<string>? Strings(string key) => Value(key) switch
        {
            null => null,
            { Type: JTokenType.String } one => [(string)one!],
            JArray list when list.All(item => item.Type == JTokenType.String) => list.Select(item => (string)item!).ToList(),
            var other => throw Wrong(key, other, "a list of names"),
        };

        /// <summary>A key PEFT reads as a list of module names or, given as a string, as a regular expression: one of the two, or neither when absent.</summary>
        public (IReadOnlyList<string>? Names, string? Pattern) NamesOrPattern(string key, string what = "a list of module names or a regular expression (a string)") => Value(key) switch
        {
            null => (null, null),
            { Type: JTokenType.String } pattern => (null, (string)pattern!),
            JArray list when list.All(item => item.Type == JTokenType.String) => (list.Select(item => (string)item!).ToList(), null),
            var other => throw Wrong(key, other, what),
        };

        public IReadOnlyDictionary<string, T> Pattern<T>(string key, Func<JToken, T?> convert, string what) where T : struct
        {
            var result = new Dictionary<string, T>(StringComparer.Ordinal);
            switch (Value(key))
            {
                case null: return result;
                case JObject map:
                    foreach (var (name, value) in map)
                        result[name] = value is not null && convert(value) is { } converted ? converted
                            : throw Invalid(path, $"'{key}': the value of '{name}' is {Describe(value)}; it must be {what}");
                    return result;
                case var other: throw Wrong(key, other, "an object of module patterns to values");
            }
        }

        private LoraAdapterException Wrong(string key, JToken value, string what) =>
            Invalid(path, $"'{key}' is {Describe(value)}; it must be {what}");

        private static string Describe(JToken? value) => value is null ? "missing"
            : value.Type is JTokenType.String or JTokenType.Integer or JTokenType.Float or JTokenType.Boolean
                ? $"{JsonProblems.Describe(value.Type)} {value.ToString(Newtonsoft.Json.Formatting.None)}"
                : $"a JSON {JsonProblems.Describe(value.Type)}";
    }
}
