using System.Globalization;
using ChatVector.Core.Format;
using ChatVector.Core.Methods;
using YamlDotNet.RepresentationModel;

namespace ChatVector.Core.Config;

/// <summary>One model of a config: its folder (resolved against the config's folder) and its own parameters.</summary>
/// <param name="LoraPath">With <c>model+lora</c>: the adapter folder applied to the model (see <see cref="Lora.LoraVectors.OnModel"/>).</param>
public sealed record ConfigModel(string Reference, string Path, IReadOnlyDictionary<string, ConfigValue> Parameters, string? LoraPath = null);

/// <summary>One source of a slice: a model's layers [Start, End), with the source's own parameters (in <see cref="ConfigModel.Parameters"/>).</summary>
public sealed record ConfigSliceSource(ConfigModel Model, int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>A slice of the output's layers: its sources (of equal length) and the slice's parameters.</summary>
/// <param name="BaseModel">The slice's own <c>base_model</c>, which mergekit uses for it over the config's; null when not given.</param>
public sealed record ConfigSlice(IReadOnlyList<ConfigSliceSource> Sources, IReadOnlyDictionary<string, ConfigValue> Parameters, long Line, ConfigModel? BaseModel = null);

/// <summary>
/// A mergekit YAML config as far as ChatVector runs it: <c>merge_method</c>, <c>base_model</c>, <c>models</c> (each with
/// <c>parameters</c>), the global <c>parameters</c>, <c>dtype</c> and <c>out_dtype</c>. Read by <see cref="Read"/>, which
/// checks every key and value and reports every problem at once, before any model is opened.
/// </summary>
/// <param name="ChatTemplate">The output's chat template: null (the base's), <see cref="AutoChatTemplate"/>, or Jinja text.</param>
/// <param name="Slices">The output's layers slice by slice (layer stacking), or null: every model's layers, merged one to one.</param>
/// <param name="Tokenizer">The output vocabulary's settings (<c>tokenizer_source</c> or <c>tokenizer:</c>), or null: the base's tokenizer.</param>
public sealed partial record MergeConfig(string SourcePath, string Text, MergeMethod Method, ConfigModel? BaseModel, IReadOnlyList<ConfigModel> Models,
    IReadOnlyDictionary<string, ConfigValue> Parameters, DType? DType, DType? OutDType, string? ChatTemplate = null,
    IReadOnlyList<ConfigSlice>? Slices = null, TokenizerSettings? Tokenizer = null)
{
    private static readonly string[] TopKeys = ["merge_method", "base_model", "models", "parameters", "dtype", "out_dtype", "slices", "tokenizer_source", "tokenizer", "chat_template", "modules"];
    private static readonly string[] ModuleKeys = ["models", "slices", "parameters"];
    /// <summary>mergekit's name for the one module of a single-module architecture (the LLaMA family's).</summary>
    private const string DefaultModule = "default";
    private static readonly string[] ModelKeys = ["model", "parameters"];
    // residual_weight is in mergekit's schema for a slice, and nothing in mergekit reads it: accepted, changing nothing.
    private static readonly string[] SliceKeys = ["sources", "parameters", "base_model", "residual_weight"];
    private static readonly string[] SourceKeys = ["model", "layer_range", "parameters"];

    /// <summary><c>chat_template: auto</c>: the template most of the merged models carry.</summary>
    public const string AutoChatTemplate = "auto";

    /// <summary>The dtype names mergekit accepts (torch's), and ChatVector's.</summary>
    private static readonly Dictionary<string, DType> DTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bfloat16"] = Format.DType.BF16, ["bf16"] = Format.DType.BF16,
        ["float16"] = Format.DType.F16, ["fp16"] = Format.DType.F16, ["f16"] = Format.DType.F16, ["half"] = Format.DType.F16,
        ["float32"] = Format.DType.F32, ["fp32"] = Format.DType.F32, ["f32"] = Format.DType.F32, ["float"] = Format.DType.F32,
        ["float64"] = Format.DType.F64, ["f64"] = Format.DType.F64,
    };

    /// <param name="overrides">Global parameters that replace the config's (a sweep's <c>-Parameter</c>).</param>
    public static MergeConfig Read(string path, IReadOnlyDictionary<string, object>? overrides = null)
    {
        var problems = new List<string>();
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MergeConfigException(path, [$"cannot read the config: {e.Message}"]); }
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode mapping
                ? mapping
                : throw new MergeConfigException(path, ["a mergekit config is one YAML mapping (merge_method:, models:, ...)"]);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new MergeConfigException(path, [$"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}"]);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this for some malformed text (an unclosed flow collection) instead of a YamlException.
            throw new MergeConfigException(path, [$"not valid YAML: {e.Message}"]);
        }
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;

        var keys = Entries(root, "the config", TopKeys, problems);
        var moduleParameters = Module(keys, problems);

        MergeMethod? method = null;
        if (!keys.TryGetValue("merge_method", out var methodNode)) problems.Add("'merge_method' is missing.");
        else if (Scalar(methodNode, "merge_method", problems) is { } methodName)
        {
            try { method = MethodRegistry.Find(methodName); }
            catch (MethodParameterException e) { problems.Add($"line {Line(methodNode)}: {e.Message}"); }
        }

        var globals = keys.TryGetValue("parameters", out var parametersNode) ? ParametersOf(parametersNode, "parameters", problems) : new Dictionary<string, ConfigValue>();
        // A module's parameters come before the global ones; a filtered module value that matches no filter falls back to
        // the global value for that tensor, as mergekit's ConfigReader does.
        foreach (var (name, value) in moduleParameters)
            globals[name] = value is FilteredValue filtered && globals.TryGetValue(name, out var global) ? new FilteredValue([.. filtered.Entries, (null, global)]) : value;
        foreach (var (name, value) in overrides ?? new Dictionary<string, object>())
            if (OverrideValue(value, $"-Parameter '{name}'", problems) is { } parsed) globals[name] = parsed;

        ConfigModel? baseModel = keys.TryGetValue("base_model", out var baseNode) && Scalar(baseNode, "base_model", problems) is { } baseReference
            ? Model(baseReference, new Dictionary<string, ConfigValue>(), folder, baseNode, problems)
            : null;
        var models = new List<ConfigModel>();
        if (keys.TryGetValue("models", out var modelsNode))
        {
            if (modelsNode is not YamlSequenceNode list) problems.Add($"'models' (line {Line(modelsNode)}) must be a list of {{model: ..., parameters: ...}}.");
            else
                foreach (var item in list)
                {
                    string where = $"models, line {Line(item)}";
                    var entry = item is YamlMappingNode m ? Entries(m, where, ModelKeys, problems)
                        : item is YamlScalarNode ? new Dictionary<string, YamlNode> { ["model"] = item } : null;
                    if (entry is null) { problems.Add($"{where}: a model entry is a mapping with 'model:' and 'parameters:'."); continue; }
                    if (!entry.TryGetValue("model", out var modelNode)) { problems.Add($"{where}: 'model' is missing."); continue; }
                    var parameters = entry.TryGetValue("parameters", out var p) ? ParametersOf(p, $"{where}, parameters", problems) : new Dictionary<string, ConfigValue>();
                    if (Scalar(modelNode, where, problems) is { } reference) models.Add(Model(reference, parameters, folder, modelNode, problems));
                }
        }
        else if (!keys.ContainsKey("slices")) problems.Add("'models' is missing: list the models to merge.");
        List<ConfigSlice>? slices = null;
        if (keys.TryGetValue("slices", out var slicesNode))
        {
            if (keys.ContainsKey("models")) problems.Add("'models' and 'slices' are given: a config has one or the other.");
            slices = SlicesOf(slicesNode, folder, problems);
        }
        if (slices is not null)
        {
            // Parameters are checked per source; the base is a slice's source or the config's base_model.
            if (method is not null)
                foreach (var slice in slices)
                {
                    var sliceBase = slice.BaseModel ?? baseModel;
                    var others = slice.Sources.Where(source => sliceBase is null || source.Model.Path != sliceBase.Path || source.Model.LoraPath != sliceBase.LoraPath || method.BaseCountsAsModel).ToList();
                    var sliceGlobals = new Dictionary<string, ConfigValue>(globals);
                    foreach (var (name, value) in slice.Parameters) sliceGlobals[name] = value;
                    if (method.ModelCount != 0) CheckParameters(method, sliceGlobals, others.Select(source => source.Model).ToList(), problems);
                }
        }
        else if (method?.ModelCount == 0)
        {
            // One model taken as it is (passthrough): it is the output's base; its parameters are the merge's.
            if (models.Count + (baseModel is null ? 0 : 1) != 1 && !(models.Count == 1 && baseModel?.Path == models[0].Path))
                problems.Add($"{method.Name} takes exactly one model; the config gives {models.Count + (baseModel is null ? 0 : 1)}.");
            else if (models.Count == 1)
            {
                baseModel = models[0] with { Parameters = new Dictionary<string, ConfigValue>() };
                foreach (var (name, value) in models[0].Parameters) globals[name] = value;
                models.Clear();
            }
        }
        else if (baseModel is null && keys.ContainsKey("models") && method is { BaseOptional: false })
            problems.Add($"'base_model' is missing: {method.Name} merges task vectors (each model minus the base).");

        DType? dtype = keys.TryGetValue("dtype", out var d) ? DTypeOf(d, "dtype", problems) : null;
        DType? outDType = keys.TryGetValue("out_dtype", out var o) ? DTypeOf(o, "out_dtype", problems) : null;

        // The base listed among the models (as mergekit's TIES examples do, without parameters) is left out of the merge.
        var merged = models.Where(m => baseModel is null || method?.BaseCountsAsModel == true || m.LoraPath != baseModel.LoraPath || !string.Equals(m.Path, baseModel.Path, StringComparison.Ordinal)).ToList();
        // A method that merges the base as one of its models gets it added when the models do not list it (as mergekit
        // does, with the global values): its parameters are checked here too, one problem rather than one per tensor.
        if (method?.BaseCountsAsModel == true && baseModel is not null && slices is null
            && !merged.Any(m => m.LoraPath == baseModel.LoraPath && string.Equals(m.Path, baseModel.Path, StringComparison.Ordinal)))
            merged.Add(baseModel);
        if (method is not null && slices is null) CheckParameters(method, globals, merged, problems);

        string? chatTemplate = keys.TryGetValue("chat_template", out var templateNode) ? Scalar(templateNode, "chat_template", problems) : null;
        // Jinja text, 'auto', or one of the built-in names; anything else is refused as mergekit refuses it (too short, or no tag).
        if (chatTemplate is not null && chatTemplate != AutoChatTemplate && BuiltInChatTemplates.Find(chatTemplate) is null && (chatTemplate.Length < 20 || !chatTemplate.Contains('{')))
            problems.Add($"'chat_template' (line {Line(templateNode!)}): '{chatTemplate}' is neither a template's Jinja text nor 'auto' nor a built-in name ({string.Join(", ", BuiltInChatTemplates.ByName.Keys)}){NameSuggestion.Phrase(chatTemplate, [.. BuiltInChatTemplates.ByName.Keys])}.");

        var tokenizer = TokenizerOf(keys, folder, problems);
        // The vocabulary mapping reads each model's embedding rows as stored: an adapter's change to them would be lost.
        foreach (var model in (baseModel is null ? models : models.Prepend(baseModel)).Concat((slices ?? []).SelectMany(s => s.Sources).Select(s => s.Model))
                     .Where(m => tokenizer is not null && m.LoraPath is not null).DistinctBy(m => (m.Path, m.LoraPath)))
            problems.Add($"model '{model.Reference}': a LoRA adapter with '{tokenizer!.Key}' is not run by ChatVector yet (the vocabulary mapping reads the model as stored); merge the adapter into the model first.");

        if (problems.Count > 0) throw new MergeConfigException(path, problems);
        return new MergeConfig(System.IO.Path.GetFullPath(path), text, method!, baseModel, models, globals, dtype, outDType, chatTemplate, slices, tokenizer);
    }

    /// <summary>The <c>slices:</c> list: each slice's sources (model, layer_range [start, end), parameters), all of one length.</summary>
    private static List<ConfigSlice> SlicesOf(YamlNode node, string folder, List<string> problems)
    {
        var slices = new List<ConfigSlice>();
        if (node is not YamlSequenceNode list || list.Children.Count == 0)
        {
            problems.Add($"'slices' (line {Line(node)}) must be a list of {{sources: [...], parameters: ...}}.");
            return slices;
        }
        foreach (var item in list)
        {
            string where = $"slices, line {Line(item)}";
            if (item is not YamlMappingNode mapping) { problems.Add($"{where}: a slice is a mapping with 'sources:'."); continue; }
            var entry = Entries(mapping, where, SliceKeys, problems);
            var parameters = entry.TryGetValue("parameters", out var p) ? ParametersOf(p, $"{where}, parameters", problems) : new Dictionary<string, ConfigValue>();
            if (!entry.TryGetValue("sources", out var sourcesNode) || sourcesNode is not YamlSequenceNode sourceList || sourceList.Children.Count == 0)
            {
                problems.Add($"{where}: 'sources' must list the models and layer ranges the slice takes.");
                continue;
            }
            var sources = new List<ConfigSliceSource>();
            foreach (var sourceNode in sourceList)
            {
                string at = $"{where}, source at line {Line(sourceNode)}";
                if (sourceNode is not YamlMappingNode sourceMapping) { problems.Add($"{at}: a source is a mapping with 'model:' and 'layer_range:'."); continue; }
                var source = Entries(sourceMapping, at, SourceKeys, problems);
                if (!source.TryGetValue("model", out var modelNode) || Scalar(modelNode, at, problems) is not { } reference) { problems.Add($"{at}: 'model' is missing."); continue; }
                if (!source.TryGetValue("layer_range", out var rangeNode) || rangeNode is not YamlSequenceNode { Children.Count: 2 } range
                    || !int.TryParse((range[0] as YamlScalarNode)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int start)
                    || !int.TryParse((range[1] as YamlScalarNode)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int end) || end <= start)
                {
                    problems.Add($"{at}: 'layer_range' must be [start, end] with 0 <= start < end (end excluded).");
                    continue;
                }
                var sourceParameters = source.TryGetValue("parameters", out var sp) ? ParametersOf(sp, $"{at}, parameters", problems) : new Dictionary<string, ConfigValue>();
                sources.Add(new ConfigSliceSource(Model(reference, sourceParameters, folder, modelNode, problems), start, end));
            }
            if (sources.Select(s => s.Length).Distinct().Count() > 1)
                problems.Add($"{where}: its sources take {string.Join(", ", sources.Select(s => s.Length))} layers; every source of a slice must take as many.");
            if (entry.TryGetValue("residual_weight", out var residual) && !(residual is YamlScalarNode { Value: { } residualText } && Yaml11Scalar(residualText) is double))
                problems.Add($"{where}: 'residual_weight' (line {Line(residual)}) must be a number.");
            var sliceBase = entry.TryGetValue("base_model", out var sliceBaseNode) && Scalar(sliceBaseNode, $"{where}: base_model", problems) is { } sliceBaseReference
                ? Model(sliceBaseReference, new Dictionary<string, ConfigValue>(), folder, sliceBaseNode, problems)
                : null;
            slices.Add(new ConfigSlice(sources, parameters, Line(item), sliceBase));
        }
        return slices;
    }

    /// <summary>
    /// mergekit's <c>modules:</c> form for a single-module model (<c>modules: {default: {slices | models, parameters}}</c>):
    /// its models or slices taken as the config's, and its parameters returned (they take precedence over the global ones).
    /// </summary>
    private static Dictionary<string, ConfigValue> Module(Dictionary<string, YamlNode> keys, List<string> problems)
    {
        if (!keys.TryGetValue("modules", out var modulesNode)) return new Dictionary<string, ConfigValue>();
        if (modulesNode is not YamlMappingNode modules || modules.Children.Count != 1
            || (modules.Children.Single().Key as YamlScalarNode)?.Value != DefaultModule || modules.Children.Single().Value is not YamlMappingNode module)
        {
            problems.Add($"'modules' (line {Line(modulesNode)}): ChatVector merges single-module models (the LLaMA family), whose one module mergekit calls '{DefaultModule}': modules: {{{DefaultModule}: {{slices: ..., parameters: ...}}}}.");
            return new Dictionary<string, ConfigValue>();
        }
        var entries = Entries(module, $"modules, {DefaultModule}", ModuleKeys, problems);
        foreach (var key in new[] { "models", "slices" })
            if (entries.TryGetValue(key, out var node))
            {
                if (keys.ContainsKey(key)) problems.Add($"'{key}' is given at the top and in modules.{DefaultModule}: give it once.");
                else keys[key] = node;
            }
        return entries.TryGetValue("parameters", out var parameters) ? ParametersOf(parameters, $"modules, {DefaultModule}, parameters", problems) : new Dictionary<string, ConfigValue>();
    }

    /// <summary>The mapping's entries, an unknown key refused with the nearest valid one.</summary>
    private static Dictionary<string, YamlNode> Entries(YamlMappingNode mapping, string where, string[] valid, List<string> problems)
    {
        var entries = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!valid.Contains(key)) problems.Add($"{where}: unknown key '{key}' (line {Line(keyNode)}){NameSuggestion.Phrase(key, valid)}.");
            else if (!entries.TryAdd(key, value)) problems.Add($"{where}: '{key}' is given twice (line {Line(keyNode)}).");
        }
        return entries;
    }

    private static string? Scalar(YamlNode node, string where, List<string> problems)
    {
        if (node is YamlScalarNode { Value: { Length: > 0 } value }) return value;
        problems.Add($"{where} (line {Line(node)}) must be a single value.");
        return null;
    }

    /// <summary>A parameters mapping: each value a scalar, a gradient (a list of numbers) or a filtered list ({filter, value} entries).</summary>
    private static Dictionary<string, ConfigValue> ParametersOf(YamlNode node, string where, List<string> problems)
    {
        var parameters = new Dictionary<string, ConfigValue>(StringComparer.Ordinal);
        if (node is not YamlMappingNode mapping)
        {
            problems.Add($"{where} (line {Line(node)}) must be a mapping of parameter names to values.");
            return parameters;
        }
        foreach (var (keyNode, value) in mapping.Children)
        {
            string name = (keyNode as YamlScalarNode)?.Value ?? "";
            if (ValueOf(value, $"{where}: '{name}'", problems) is { } parsed) parameters[name] = parsed;
        }
        return parameters;
    }

    /// <summary>
    /// A <c>-Parameter</c> value as a config value: a number, true/false or text; a list of numbers (a gradient); or a list
    /// of tables with 'filter' (optional) and 'value' (a filter list). Anything else is a problem named by <paramref name="where"/>.
    /// </summary>
    private static ConfigValue? OverrideValue(object? value, string where, List<string> problems)
    {
        const string Expected = "a number, true or false, a list of numbers (a gradient) or a list of @{ filter = ...; value = ... }";
        switch (value)
        {
            case null:
                problems.Add($"{where} has no value; give {Expected}.");
                return null;
            case string or bool or double or float or int or long or decimal:
                return new ScalarValue(value);
            case System.Collections.IDictionary:
                problems.Add($"{where} is one table; a filter list is a list of them (@(@{{ filter = 'mlp'; value = 0.5 }}, @{{ value = 0.3 }})).");
                return null;
            case System.Collections.IEnumerable list:
                var items = list.Cast<object?>().ToList();
                if (items.Count == 0) { problems.Add($"{where} is an empty list; give {Expected}."); return null; }
                if (items.All(i => i is System.Collections.IDictionary))
                {
                    var entries = new List<(string?, ConfigValue)>();
                    foreach (System.Collections.IDictionary entry in items.Cast<System.Collections.IDictionary>())
                    {
                        // Keys in any case, as PowerShell's tables take them.
                        var fields = entry.Keys.Cast<object>().ToDictionary(k => (System.Convert.ToString(k, CultureInfo.InvariantCulture) ?? "").ToLowerInvariant(), k => entry[k]);
                        if (fields.Keys.FirstOrDefault(k => k is not ("filter" or "value")) is { } unknown) { problems.Add($"{where}: a filter list's entry takes 'filter' and 'value', not '{unknown}'."); return null; }
                        if (!fields.TryGetValue("value", out var entryValue)) { problems.Add($"{where}: a filter list's entry needs 'value'."); return null; }
                        string? filter = fields.TryGetValue("filter", out var f) ? System.Convert.ToString(f, CultureInfo.InvariantCulture) : null;
                        if (OverrideValue(entryValue, where, problems) is not { } inner) return null;
                        entries.Add((filter, inner));
                    }
                    return new FilteredValue(entries);
                }
                var points = new List<double>();
                foreach (var item in items)
                    if (item is double or float or int or long or decimal || item is string text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                        points.Add(System.Convert.ToDouble(item, CultureInfo.InvariantCulture));
                    else { problems.Add($"{where}: a gradient is a list of numbers; '{item}' is not one."); return null; }
                return new GradientValue(points);
            default:
                problems.Add($"{where} is a {value.GetType().Name}; give {Expected}.");
                return null;
        }
    }

    /// <summary>
    /// A plain scalar as mergekit's YAML reader (PyYAML, YAML 1.1) types it: yes/no/on/off and true/false (any of their
    /// three casings) are booleans, .inf/-.inf/.nan and 0x/0o/0b integers numbers, besides the usual numbers; anything
    /// else stays text.
    /// </summary>
    private static object Yaml11Scalar(string text)
    {
        switch (text)
        {
            case "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "true" or "True" or "TRUE": return true;
            case "no" or "No" or "NO" or "off" or "Off" or "OFF" or "false" or "False" or "FALSE": return false;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": return double.PositiveInfinity;
            case "-.inf" or "-.Inf" or "-.INF": return double.NegativeInfinity;
            case ".nan" or ".NaN" or ".NAN": return double.NaN;
        }
        string digits = text.Replace("_", "", StringComparison.Ordinal); // YAML 1.1 allows 1_000
        bool negative = digits.StartsWith('-');
        string unsigned = digits.TrimStart('-', '+');
        // YAML 1.1's 0x (hex), 0b (binary) and 0-led (octal) integers; 0o is YAML 1.2's, text to PyYAML.
        var (body, radix) = unsigned.StartsWith("0x", StringComparison.Ordinal) ? (unsigned[2..], 16)
            : unsigned.StartsWith("0b", StringComparison.Ordinal) ? (unsigned[2..], 2)
            : unsigned.Length > 1 && unsigned[0] == '0' && unsigned.All(c => c is >= '0' and <= '7') ? (unsigned[1..], 8)
            : ("", 0);
        if (radix != 0)
        {
            if (body.Length == 0 || !body.All(c => Uri.IsHexDigit(c) && System.Convert.ToInt32(c.ToString(), 16) < radix)) return text;
            double value = body.Aggregate(0.0, (sum, c) => sum * radix + System.Convert.ToInt32(c.ToString(), 16));
            return negative ? -value : value;
        }
        return double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : text;
    }

    private static ConfigValue? ValueOf(YamlNode node, string where, List<string> problems)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { } text }:
                return new ScalarValue(Yaml11Scalar(text));
            case YamlSequenceNode list when list.Children.Count > 0 && list.Children.All(c => c is YamlScalarNode):
                var items = list.Children.Cast<YamlScalarNode>().Select(item => Yaml11Scalar(item.Value ?? "")).ToList();
                // Numbers interpolate (a gradient); other scalars step: mergekit takes item ⌊t·(n − 1)⌋.
                return items.All(i => i is double) ? new GradientValue(items.Cast<double>().ToList()) : new SteppedValue(items);
            case YamlSequenceNode list when list.Children.Count > 0 && list.Children.All(c => c is YamlMappingNode):
                var entries = new List<(string?, ConfigValue)>();
                foreach (var item in list.Children.Cast<YamlMappingNode>())
                {
                    var fields = Entries(item, $"{where}, line {Line(item)}", ["filter", "value"], problems);
                    string? filter = fields.TryGetValue("filter", out var f) ? Scalar(f, $"{where}: filter", problems) : null;
                    if (!fields.TryGetValue("value", out var v)) { problems.Add($"{where} (line {Line(item)}): a filtered entry needs 'value'."); continue; }
                    if (ValueOf(v, where, problems) is { } inner) entries.Add((filter, inner));
                }
                return new FilteredValue(entries);
            default:
                problems.Add($"{where} (line {Line(node)}) must be a value, a list of numbers (a gradient) or a list of {{filter, value}}.");
                return null;
        }
    }

    /// <summary>
    /// The method's parameter names, required ones and ranges, checked for every scalar a parameter can take (each point
    /// of a gradient, each filtered value), so that a value out of range in one layer is found before any tensor is read.
    /// </summary>
    private static void CheckParameters(MergeMethod method, Dictionary<string, ConfigValue> globals, List<ConfigModel> models, List<string> problems)
    {
        static Dictionary<string, object> First(IReadOnlyDictionary<string, ConfigValue> values) =>
            values.Where(v => v.Value.Leaves.Any()).ToDictionary(v => v.Key, v => v.Value.Leaves.First());
        try { method.CheckParameters(First(globals), models.Select(m => (IReadOnlyDictionary<string, object>?)First(m.Parameters)).ToList(), models.Select(m => m.Reference).ToList(), combinations: false); }
        catch (MethodParameterException e) { problems.Add(e.Message); return; }
        var scopes = models.Select(m => ($"model '{m.Reference}'", m.Parameters)).Prepend(("parameters", (IReadOnlyDictionary<string, ConfigValue>)globals));
        foreach (var (where, values) in scopes)
            foreach (var (name, value) in values)
                if (method.Parameters.FirstOrDefault(p => p.Name == name) is { } parameter)
                    foreach (var leaf in value.Leaves)
                        try { parameter.Convert(leaf, $"method '{method.Name}', {where}"); }
                        catch (MethodParameterException e) { problems.Add(e.Message); }
    }

    /// <summary>
    /// A model reference: a folder relative to the config's, or a Hugging Face id in the local cache; <c>model+lora</c>
    /// (mergekit's form) names a LoRA adapter, resolved the same way, applied to the model.
    /// </summary>
    private static ConfigModel Model(string reference, Dictionary<string, ConfigValue> parameters, string folder, YamlNode node, List<string> problems)
    {
        var parts = reference.Split('+');
        if (parts.Length > 2 || parts.Any(p => p.Length == 0))
        {
            problems.Add($"model '{reference}' (line {Line(node)}): a reference is a model and at most one LoRA adapter, as model+lora.");
            return new ConfigModel(reference, System.IO.Path.GetFullPath(parts[0], folder), parameters);
        }
        string path = Resolve(reference, parts[0], "model folder", folder, node, problems);
        string? lora = parts.Length == 2 ? Resolve(reference, parts[1], "LoRA adapter folder", folder, node, problems) : null;
        return new ConfigModel(reference, path, parameters, lora);
    }

    /// <summary>The folder <paramref name="part"/> of a reference names, or (with a problem added) where it was looked for.</summary>
    private static string Resolve(string reference, string part, string what, string folder, YamlNode node, List<string> problems)
    {
        string path = System.IO.Path.GetFullPath(part.Split('@')[0], folder);
        if (Directory.Exists(path) || File.Exists(path)) return path;
        if (HuggingFaceCache.LooksLikeId(part))
        {
            if (HuggingFaceCache.Find(part, out var lookedIn) is { } snapshot) return snapshot;
            problems.Add($"model '{reference}' (line {Line(node)}): no {what} at {path}, and no snapshot of '{part}' in the Hugging Face cache " +
                $"(looked in {string.Join(", ", lookedIn)}; nothing is downloaded: fetch it with huggingface-cli, or set HF_HUB_CACHE).");
        }
        else problems.Add($"model '{reference}' (line {Line(node)}): no {what} at {path} (a path relative to the config's folder).");
        return path;
    }

    private static DType? DTypeOf(YamlNode node, string key, List<string> problems)
    {
        if (Scalar(node, key, problems) is not { } name) return null;
        if (DTypes.TryGetValue(name, out var dtype)) return dtype;
        problems.Add($"'{key}' (line {Line(node)}): '{name}' is not a floating-point dtype ({string.Join(", ", DTypes.Keys.Where(k => k.Contains("float")))}).");
        return null;
    }

    private static long Line(YamlNode node) => node.Start.Line;
}
