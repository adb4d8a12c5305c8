using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace ChatVector.Core.Config;

/// <summary>Reading <c>tokenizer_source</c> and the <c>tokenizer:</c> section (mergekit's <c>TokenizerConfig</c>).</summary>
public sealed partial record MergeConfig
{
    private static readonly string[] TokenizerKeys = ["source", "tokens", "pad_to_multiple_of"];
    private static readonly string[] TokenKeys = ["source", "force"];
    private static readonly string[] TokenSourceKeys = ["kind", "model", "token", "token_id"];

    /// <summary>The settings of <c>tokenizer_source</c> or <c>tokenizer:</c>, or null when the config has neither (the base's tokenizer, unchanged).</summary>
    private static TokenizerSettings? TokenizerOf(Dictionary<string, YamlNode> keys, string folder, List<string> problems)
    {
        bool hasSource = keys.TryGetValue("tokenizer_source", out var sourceNode);
        bool hasSection = keys.TryGetValue("tokenizer", out var sectionNode);
        if (hasSource && hasSection)
        {
            problems.Add($"'tokenizer_source' (line {Line(sourceNode!)}) and 'tokenizer' (line {Line(sectionNode!)}) are both given: a config has one or the other.");
            return null;
        }
        if (hasSource)
            return Scalar(sourceNode!, "tokenizer_source", problems) is { } text ? SourceOf(text, "tokenizer_source", sourceNode!, folder, problems) : null;
        if (!hasSection) return null;
        if (sectionNode is not YamlMappingNode section)
        {
            problems.Add($"'tokenizer' (line {Line(sectionNode!)}) must be a mapping of source, tokens and pad_to_multiple_of.");
            return null;
        }
        var entries = Entries(section, "tokenizer", TokenizerKeys, problems);
        // mergekit's TokenizerConfig makes the union the default source.
        var settings = entries.TryGetValue("source", out var s)
            ? Scalar(s, "tokenizer.source", problems) is { } name ? SourceOf(name, "tokenizer", s, folder, problems) : null
            : new TokenizerSettings(TokenizerSourceKind.Union, null, [], null, "tokenizer");
        if (settings is null) return null;
        int? pad = null;
        if (entries.TryGetValue("pad_to_multiple_of", out var padNode) && Scalar(padNode, "tokenizer.pad_to_multiple_of", problems) is { } padText)
        {
            if (int.TryParse(padText, NumberStyles.None, CultureInfo.InvariantCulture, out int multiple) && multiple > 0) pad = multiple;
            else problems.Add($"'tokenizer.pad_to_multiple_of' (line {Line(padNode)}): '{padText}' is not a whole number above 0.");
        }
        var tokens = entries.TryGetValue("tokens", out var tokensNode) ? TokensOf(tokensNode, folder, problems) : [];
        return settings with { Tokens = tokens, PadToMultipleOf = pad };
    }

    private static TokenizerSettings SourceOf(string text, string key, YamlNode node, string folder, List<string> problems) => text switch
    {
        "base" => new TokenizerSettings(TokenizerSourceKind.Base, null, [], null, key),
        "union" => new TokenizerSettings(TokenizerSourceKind.Union, null, [], null, key),
        _ => new TokenizerSettings(TokenizerSourceKind.Model, Model(text, new Dictionary<string, ConfigValue>(), folder, node, problems), [], null, key),
    };

    /// <summary><c>tokenizer.tokens</c>: token text to {source, force}, in the config's order.</summary>
    private static List<TokenSetting> TokensOf(YamlNode node, string folder, List<string> problems)
    {
        var tokens = new List<TokenSetting>();
        if (node is not YamlMappingNode mapping)
        {
            problems.Add($"'tokenizer.tokens' (line {Line(node)}) must map each token's text to {{source: ..., force: ...}}.");
            return tokens;
        }
        foreach (var (keyNode, value) in mapping.Children)
        {
            string token = (keyNode as YamlScalarNode)?.Value ?? "";
            string key = TokenizerSettings.TokenKey(token);
            if (token.Length == 0) { problems.Add($"'tokenizer.tokens' (line {Line(keyNode)}): a token's text is empty."); continue; }
            if (value is not YamlMappingNode setting) { problems.Add($"'{key}' (line {Line(value)}) must be a mapping with 'source:' (and 'force:')."); continue; }
            var fields = Entries(setting, key, TokenKeys, problems);
            bool force = false;
            if (fields.TryGetValue("force", out var forceNode) && Scalar(forceNode, $"{key}.force", problems) is { } forceText && !bool.TryParse(forceText, out force))
                problems.Add($"'{key}.force' (line {Line(forceNode)}): '{forceText}' is not true or false.");
            // mergekit accepts an entry without a source but then fails when it builds the token's row.
            if (!fields.TryGetValue("source", out var sourceNode))
            {
                problems.Add($"'{key}' (line {Line(value)}): 'source' is missing: a model, {{kind: model_token, model: ..., token: ...}} or {{kind: zero}}.");
                continue;
            }
            if (TokenSourceOf(sourceNode, key, folder, problems) is { } source) tokens.Add(new TokenSetting(token, source, force));
        }
        return tokens;
    }

    private static TokenEmbeddingSource? TokenSourceOf(YamlNode node, string key, string folder, List<string> problems)
    {
        string where = $"{key}.source";
        if (node is YamlScalarNode) return Scalar(node, where, problems) is { } model ? new ModelRowSource(Model(model, new Dictionary<string, ConfigValue>(), folder, node, problems)) : null;
        if (node is not YamlMappingNode mapping)
        {
            problems.Add($"'{where}' (line {Line(node)}) must be a model, {{kind: model_token, ...}} or {{kind: zero}}.");
            return null;
        }
        var fields = Entries(mapping, where, TokenSourceKeys, problems);
        string? kind = fields.TryGetValue("kind", out var kindNode) ? Scalar(kindNode, $"{where}.kind", problems) : null;
        switch (kind)
        {
            case "zero":
                foreach (var extra in fields.Keys.Where(k => k != "kind")) problems.Add($"'{where}' (line {Line(node)}): kind zero takes no '{extra}'.");
                return new ZeroRowSource();
            case "model_token":
                if (!fields.TryGetValue("model", out var modelNode) || Scalar(modelNode, $"{where}.model", problems) is not { } reference)
                {
                    problems.Add($"'{where}' (line {Line(node)}): kind model_token needs 'model'.");
                    return null;
                }
                var model = Model(reference, new Dictionary<string, ConfigValue>(), folder, modelNode, problems);
                bool hasText = fields.TryGetValue("token", out var textNode), hasId = fields.TryGetValue("token_id", out var idNode);
                if (hasText == hasId)
                {
                    problems.Add($"'{where}' (line {Line(node)}): kind model_token needs one of 'token' and 'token_id', not {(hasText ? "both" : "neither")}.");
                    return null;
                }
                if (hasText) return Scalar(textNode!, $"{where}.token", problems) is { } text ? new ModelTokenSource(model, text, null) : null;
                if (Scalar(idNode!, $"{where}.token_id", problems) is { } idText)
                {
                    if (long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out long id)) return new ModelTokenSource(model, null, id);
                    problems.Add($"'{where}.token_id' (line {Line(idNode!)}): '{idText}' is not a token id (a whole number, 0 or more).");
                }
                return null;
            default:
                problems.Add($"'{where}' (line {Line(node)}): kind is {(kind is null ? "missing" : $"'{kind}'")}; mergekit's kinds are model_token and zero (or give the model's name alone).");
                return null;
        }
    }
}
