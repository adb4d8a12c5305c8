using System.Globalization;
using System.Text.RegularExpressions;

namespace ChatVector.Core.Lora;

/// <summary>Why an adapter's factors for a module are applied or left out: PEFT's answer for the module, by its first reason.</summary>
public enum LoraModuleSelection
{
    /// <summary>PEFT puts a LoRA layer on the module: its factors are applied.</summary>
    Targeted,
    /// <summary><c>target_modules</c> (or <c>layers_to_transform</c>) does not name the module.</summary>
    NotTargeted,
    /// <summary><c>exclude_modules</c> names the module, whatever <c>target_modules</c> says.</summary>
    Excluded,
}

/// <summary>
/// Which modules an adapter's config targets, decided as PEFT decides it when it builds the model the adapter is loaded
/// into (check_target_module_exists in peft/tuners/tuners_utils.py): PEFT puts a LoRA layer on those modules only, and
/// the factors the file holds for any other module are keys it never loads.
/// </summary>
public sealed partial record LoraAdapterConfig
{
    /// <summary>
    /// PEFT's answer for <paramref name="module"/> (a module name of the model, as <c>model.layers.0.self_attn.q_proj</c>), in
    /// its order: <c>exclude_modules</c> first, then <c>target_modules</c> (every module when it is absent: PEFT would
    /// take its architecture's defaults, which the file's factors stand for), then, for a module a list names by its last
    /// parts only, <c>layers_to_transform</c> counted in <c>layers_pattern</c>'s module lists. A module a list names in
    /// full, or a regular expression matches, has no layer filter.
    /// </summary>
    public LoraModuleSelection Select(string module)
    {
        if (Excludes(module)) return LoraModuleSelection.Excluded;
        if (TargetModulesRegex is not null) return Of(Targets(module));
        if (TargetModules is { } list && list.Contains(module)) return LoraModuleSelection.Targeted;
        if (TargetModules is not null && !Targets(module)) return LoraModuleSelection.NotTargeted;
        return Of(InTransformedLayer(module));
    }

    /// <summary>Whether PEFT would put a LoRA layer on <paramref name="module"/>; it ignores an adapter's factors for any other module, with a warning.</summary>
    public bool Applies(string module) => Select(module) == LoraModuleSelection.Targeted;

    /// <summary><c>target_modules</c> names <paramref name="module"/>: a regular expression matching it whole ("all-linear": every linear layer but the output head), or a list entry equal to it or to its last dotted parts.</summary>
    public bool Targets(string module) =>
        TargetModulesRegex is { } regex
            ? string.Equals(regex, AllLinear, StringComparison.OrdinalIgnoreCase) ? !IsOutputOrEmbedding(module) : FullMatch(regex, module)
            : TargetModules is { } list && list.Any(target => EndsWithParts(module, target));

    /// <summary>
    /// <c>exclude_modules</c> names <paramref name="module"/>: a regular expression matching it whole, or a list entry
    /// equal to it or to its last dotted parts (the same rule as a list of <c>target_modules</c>).
    /// </summary>
    public bool Excludes(string module) =>
        ExcludeModulesRegex is { } regex ? FullMatch(regex, module) : ExcludeModules.Any(excluded => EndsWithParts(module, excluded));

    private static LoraModuleSelection Of(bool targeted) => targeted ? LoraModuleSelection.Targeted : LoraModuleSelection.NotTargeted;

    /// <summary>PEFT's shorthand for every linear layer except the output layer.</summary>
    private const string AllLinear = "all-linear";

    /// <summary>The LM head and the embeddings, which "all-linear" leaves out (the one is the output layer, the others no linear layer).</summary>
    private static bool IsOutputOrEmbedding(string module) =>
        module.EndsWith("lm_head", StringComparison.Ordinal) || Models.HuggingFaceNames.IsEmbedding(module + ".weight");

    /// <summary>
    /// Whether <c>layers_to_transform</c> holds <paramref name="module"/>'s layer (always, without the key). A module
    /// whose name has no layer number, or one outside the list, is not targeted.
    /// </summary>
    private bool InTransformedLayer(string module) =>
        LayersToTransform is not { } layers || (LayerNumber(module) is { } layer && layers.Contains(layer));

    /// <summary>
    /// The layer number PEFT reads from <paramref name="module"/>'s name for <c>layers_to_transform</c>: the number right
    /// after the first of <c>layers_pattern</c>'s lists (tried in order) that the name holds after a dot, or, without
    /// <c>layers_pattern</c>, the first number that follows a dotted part after the start (model.layers.3.mlp: 3;
    /// transformer.h.3.attn: 3). In both, the number must be followed by a dot: it indexes a module list, not the module
    /// itself. Null when no pattern finds one, or when the number is beyond any layer number a config can list.
    /// </summary>
    private int? LayerNumber(string module)
    {
        foreach (var pattern in LayerNumberPatterns(LayersPattern))
        {
            // PEFT matches at the start of the name only, so the whole pattern (with any alternation that a
            // layers_pattern brings) is anchored, not just its first branch.
            var match = Regex.Match(module, $"^(?:{pattern})", RegexOptions.CultureInvariant, MatchTimeout);
            if (!match.Success) continue;
            // A layers_pattern with an alternation can match without reaching the number; PEFT fails on that module.
            if (!match.Groups[1].Success)
                throw Invalid(Source, $"'layers_pattern' matches module '{module}' without the layer number after it (an alternation '|' in the pattern splits PEFT's whole expression); PEFT fails on it too. Write the alternatives as a list of patterns, or group them in (?:...)");
            return DecimalValue(match.Groups[1].ValueSpan);
        }
        return null;
    }

    /// <summary>
    /// PEFT's expressions for the layer number, in .NET's syntax, each with one capturing group, the number. A layers_pattern
    /// is put into the expression as written (it is a regular expression, not a name); an empty one (None, "" or []) means
    /// any part name.
    /// </summary>
    private static IEnumerable<string> LayerNumberPatterns(IReadOnlyList<string>? layersPattern) =>
        layersPattern is null or { Count: 0 }
            ? [@".*?\.[^.]*\.(\d+)\."]
            : layersPattern.Select(list => $@".*?\.{DotNetPattern(list)}\.(\d+)\.");

    /// <summary>
    /// A run of decimal digits (any script's, as Python's \d and int() read them) as an int; null beyond int's range, which
    /// no <c>layers_to_transform</c> holds.
    /// </summary>
    private static int? DecimalValue(ReadOnlySpan<char> digits)
    {
        long value = 0;
        foreach (char c in digits)
        {
            value = value * 10 + CharUnicodeInfo.GetDecimalDigitValue(c);
            if (value > int.MaxValue) return null;
        }
        return (int)value;
    }

    /// <summary>
    /// Checks a <c>layers_pattern</c> entry as PEFT's expression would hold it: it must compile there, and add no
    /// capturing group of its own: PEFT reads the layer number from the expression's first group, which would then be
    /// the pattern's group and not the number after the list.
    /// </summary>
    private static string? LayersPatternProblem(string layersPattern)
    {
        var expression = LayerNumberPatterns([layersPattern]).Single();
        if (!IsValidPattern(expression)) return $"'{layersPattern}' (in layers_pattern) is not a valid regular expression where PEFT puts it ('.*?\\.{layersPattern}\\.(\\d+)\\.')";
        var groups = new Regex(expression, RegexOptions.CultureInvariant, MatchTimeout).GetGroupNumbers().Length - 1;
        return groups == 1 ? null
            : $"'{layersPattern}' (in layers_pattern) holds a capturing group: PEFT would read the layer number from it, not from the number after the module list; write the group as (?:...)";
    }
}
