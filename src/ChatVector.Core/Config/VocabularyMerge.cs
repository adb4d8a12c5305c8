using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tokenization;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Config;

/// <summary>
/// The output tokenizer of a vocabulary merge: the folder its files are copied from, the files written instead
/// (tokenizer.json when tokens were added, tokenizer_config.json with its added tokens and chat template), and the
/// vocabulary's size for config.json.
/// </summary>
public sealed record OutputTokenizer(string SourceFolder, IReadOnlyDictionary<string, string> Written, long VocabSize)
{
    /// <summary>The files a tokenizer is (mergekit copies these from its tokenizer source).</summary>
    public static readonly string[] FileNames =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "added_tokens.json",
         "vocab.json", "merges.txt", "vocab.txt", "chat_template.jinja", "chat_template.json"];
}

/// <summary>
/// A config's <c>tokenizer_source</c> / <c>tokenizer:</c> made concrete: the output vocabulary (the base's, a model's,
/// or the union: the base's tokenizer with every other model's tokens added after it, then the configured tokens), each
/// model's rows mapped onto it by token text (<see cref="VocabularyPlan"/>), and the embedding and LM head of each model
/// as <see cref="RowMappedTensor"/>s. Every impossible request (a token no model has, a source model outside the merge,
/// a model without tokenizer.json) is a problem found here, before any tensor is read.
/// </summary>
public sealed class VocabularyMerge
{
    private readonly IReadOnlyList<(ConfigModel Entry, StoredModel Model)> _models;
    private readonly Dictionary<string, IReadOnlyList<ITensorSource>> _inputs = new(StringComparer.Ordinal);
    // What the plan was built from, to build it again among some of the models (Among).
    private readonly PlanInputs _planInputs;

    private sealed record PlanInputs(IReadOnlyDictionary<string, long> Output, IReadOnlyList<ModelVocabulary> Vocabularies,
        IReadOnlyDictionary<string, TokenRule> Rules, int? PadToMultipleOf);

    private VocabularyMerge(IReadOnlyList<(ConfigModel Entry, StoredModel Model)> models, VocabularyPlan plan, OutputTokenizer tokenizer, PlanInputs planInputs)
    {
        _models = models;
        Plan = plan;
        Tokenizer = tokenizer;
        _planInputs = planInputs;
    }

    public VocabularyPlan Plan { get; }
    public OutputTokenizer Tokenizer { get; }

    /// <param name="models">The base first, then the merged models, with their config entries; without a base, the models, the first giving the output's tokenizer for <c>base</c>.</param>
    /// <param name="chatTemplateJson">The chat template tokenizer_config.json gets (JSON text), or null to keep the source's.</param>
    /// <param name="firstIsBase">
    /// Whether the first model is the config's base_model. A config without one takes the first model's tokenizer for
    /// <c>base</c>, as mergekit does, but a token some models lack gets no row from it by preference (mergekit's
    /// default row prefers the base model's only when there is one).
    /// </param>
    /// <returns>The merge, or null when <paramref name="problems"/> got a problem.</returns>
    public static VocabularyMerge? Create(TokenizerSettings settings, IReadOnlyList<(ConfigModel Entry, StoredModel Model)> models, string? chatTemplateJson, List<string> problems,
        bool firstIsBase = true)
    {
        int before = problems.Count;
        var vocabularies = new List<ModelVocabulary>();
        var addedTokens = new List<IReadOnlyDictionary<string, AddedToken>>();
        foreach (var (entry, model) in models)
        {
            var embedding = model.Tensors.FirstOrDefault(t => HuggingFaceNames.IsEmbedding(t.Name) && !HuggingFaceNames.IsLmHead(t.Name))
                ?? model.Tensors.FirstOrDefault(t => HuggingFaceNames.IsEmbedding(t.Name));
            if (embedding is null) problems.Add($"{settings.Key}: model '{entry.Reference}' has no embedding tensor (embed_tokens) to map onto the output vocabulary.");
            var (vocabulary, added) = ReadTokenizer(model.Directory, $"{settings.Key}: model '{entry.Reference}'", problems);
            vocabularies.Add(new ModelVocabulary(vocabulary, embedding?.Info.Shape[0] ?? 0));
            addedTokens.Add(added);
        }
        var widths = models.SelectMany(m => m.Model.Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name)).Select(t => (m.Entry, t)))
            .GroupBy(x => x.t.Name).Where(g => g.Select(x => string.Join("x", x.t.Info.Shape.Skip(1))).Distinct().Count() > 1);
        foreach (var group in widths)
            problems.Add($"{settings.Key}: tensor '{group.Key}' has rows of different widths ({string.Join(", ", group.Select(x => $"'{x.Entry.Reference}' [{string.Join(", ", x.t.Info.Shape)}]"))}); only the number of rows may differ.");
        if (problems.Count > before) return null;

        // The output vocabulary and the tokens added to its source's tokenizer.
        string sourceFolder = settings.Source == TokenizerSourceKind.Model ? settings.Model!.Path : models[0].Model.Directory;
        Dictionary<string, long> output;
        if (settings.Source == TokenizerSourceKind.Model)
        {
            var (vocabulary, _) = ReadTokenizer(sourceFolder, $"{settings.Key}: model '{settings.Model!.Reference}'", problems);
            output = new Dictionary<string, long>(vocabulary, StringComparer.Ordinal);
        }
        else output = new Dictionary<string, long>(vocabularies[0].Tokens, StringComparer.Ordinal);
        if (settings.Source != TokenizerSourceKind.Model && output.Values.Any(id => id >= vocabularies[0].Rows))
            problems.Add($"{settings.Key}: {(firstIsBase ? "the base model" : $"the first model '{models[0].Entry.Reference}'")}'s tokenizer has {output.Values.Count(id => id >= vocabularies[0].Rows)} token(s) at ids past its {vocabularies[0].Rows} embedding rows; " +
                "mergekit strips them from the tokenizer, which ChatVector does not do yet: use a model whose tokenizer fits its embedding as the base or the source.");
        var appended = new List<AddedToken>();
        long nextId = output.Count == 0 ? 0 : output.Values.Max() + 1; // as the tokenizers library numbers an added token
        void Append(AddedToken token)
        {
            if (output.ContainsKey(token.Content)) return;
            output[token.Content] = nextId++;
            appended.Add(token);
        }
        if (settings.Source == TokenizerSourceKind.Union)
        {
            // mergekit adds the other models' vocabulary tokens first (as plain tokens), then their added tokens (with their settings).
            var addedAnywhere = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
            for (int m = 0; m < models.Count; m++)
                foreach (var (content, token) in addedTokens[m])
                    if (vocabularies[m].RowOf(content) is not null) addedAnywhere.TryAdd(content, token);
            for (int m = 1; m < models.Count; m++)
                foreach (var (token, _) in vocabularies[m].Tokens.Where(t => t.Value < vocabularies[m].Rows).OrderBy(t => t.Value))
                    if (!addedAnywhere.ContainsKey(token)) Append(AddedToken.Plain(token));
            foreach (var token in addedAnywhere.Values) Append(token);
        }
        foreach (var setting in settings.Tokens) Append(AddedToken.Plain(setting.Token));

        // Each configured token's row.
        var rules = new Dictionary<string, TokenRule>(StringComparer.Ordinal);
        foreach (var setting in settings.Tokens)
            if (RuleOf(setting, models, vocabularies, problems) is { } rule) rules[setting.Token] = rule;
        if (problems.Count > before) return null;

        var plan = VocabularyPlan.Build(output, vocabularies, firstIsBase ? 0 : null, rules, settings.PadToMultipleOf);
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        string tokenizerJson = Path.Combine(sourceFolder, TokenizerFile.FileName);
        if (appended.Count > 0) written[TokenizerFile.FileName] = AddedTokens.Append(tokenizerJson, appended, output[appended[0].Content]);
        if (TokenizerConfig(sourceFolder, appended, output, chatTemplateJson) is { } tokenizerConfig) written[ModelSideFiles.TokenizerConfig] = tokenizerConfig;
        return new VocabularyMerge(models, plan, new OutputTokenizer(sourceFolder, written, plan.OutputRows),
            new PlanInputs(output, vocabularies, rules, settings.PadToMultipleOf));
    }

    /// <summary>
    /// The same output vocabulary and tokenizer for a tensor merged from some of the models only (a slice's sources):
    /// mergekit maps each tensor's rows among the models it is merged from and the base, so a token they lack gets its
    /// default row from them alone. A configured token's source model that is not among them is a problem.
    /// </summary>
    /// <param name="positions">The models' positions in the list <see cref="Create"/> was given; in the result, model i is the one at positions[i].</param>
    /// <param name="basePosition">The base_model's position there, or null when the config has none.</param>
    /// <param name="where">What the models are, for messages (e.g. "the first slice's sources").</param>
    public VocabularyMerge Among(IReadOnlyList<int> positions, int? basePosition, string where, List<string> problems)
    {
        var list = positions.ToList();
        var rules = new Dictionary<string, TokenRule>(StringComparer.Ordinal);
        foreach (var (token, rule) in _planInputs.Rules)
        {
            if (rule.Row.Kind != RowKind.Copy) rules[token] = rule;
            else if (list.IndexOf(rule.Row.Input) is var at and >= 0) rules[token] = rule with { Row = RowSource.Copy(at, rule.Row.Row) };
            else problems.Add($"'{TokenizerSettings.TokenKey(token)}.source': model '{_models[rule.Row.Input].Entry.Reference}' is not among {where}, so it has no row to give there.");
        }
        int? @base = basePosition is { } b && list.IndexOf(b) is var baseAt and >= 0 ? baseAt : null;
        var vocabularies = list.Select(p => _planInputs.Vocabularies[p]).ToList();
        var plan = VocabularyPlan.Build(_planInputs.Output, vocabularies, @base, rules, _planInputs.PadToMultipleOf);
        return new VocabularyMerge(list.Select(p => _models[p]).ToList(), plan, Tokenizer, _planInputs with { Vocabularies = vocabularies, Rules = rules });
    }

    /// <summary>
    /// Model <paramref name="index"/>'s tensor <paramref name="name"/> with its rows mapped onto the output vocabulary, in
    /// <paramref name="dtype"/> when the config gives one (mergekit maps rows after casting to it), else the model's.
    /// </summary>
    public RowMappedTensor Tensor(string name, int index, DType? dtype)
    {
        if (!_inputs.TryGetValue(name, out var inputs))
            _inputs[name] = inputs = _models.Select(m => (ITensorSource)new StoredTensorSource(m.Model.Find(name)
                ?? throw new InvalidOperationException($"model '{m.Model.Path}' has no tensor '{name}'"))).ToList();
        var own = inputs[index];
        return new RowMappedTensor(name, dtype ?? own.DType, [Plan.OutputRows, .. own.Shape.Skip(1)], inputs, Plan.Rows[index], Plan.Averages);
    }

    private static TokenRule? RuleOf(TokenSetting setting, IReadOnlyList<(ConfigModel Entry, StoredModel Model)> models, List<ModelVocabulary> vocabularies, List<string> problems)
    {
        string key = TokenizerSettings.TokenKey(setting.Token) + ".source";
        int IndexOf(ConfigModel model)
        {
            int index = models.ToList().FindIndex(m => SamePath(m.Entry.Path, model.Path));
            if (index < 0) problems.Add($"'{key}': model '{model.Reference}' is not one of the models merged (the base or a model of 'models:'), so it has no rows to give.");
            return index;
        }
        switch (setting.Source)
        {
            case ZeroRowSource:
                return new TokenRule(RowSource.Zero, setting.Force);
            case ModelRowSource { Model: var model }:
            {
                int index = IndexOf(model);
                if (index < 0) return null;
                if (vocabularies[index].RowOf(setting.Token) is { } row) return new TokenRule(RowSource.Copy(index, row), setting.Force);
                problems.Add($"'{key}': model '{model.Reference}' has no token '{setting.Token}' (with a row of its embedding) to take the row from.");
                return null;
            }
            case ModelTokenSource { Model: var model } source:
            {
                int index = IndexOf(model);
                if (index < 0) return null;
                long? id = source.TokenId ?? (vocabularies[index].Tokens.TryGetValue(source.Token!, out var found) ? found : null);
                if (id is null) problems.Add($"'{key}': model '{model.Reference}' has no token '{source.Token}'.");
                else if (id >= vocabularies[index].Rows) problems.Add($"'{key}': token id {id} is past model '{model.Reference}''s {vocabularies[index].Rows} embedding rows.");
                else return new TokenRule(RowSource.Copy(index, id.Value), setting.Force);
                return null;
            }
            default:
                throw new InvalidOperationException($"unknown token source {setting.Source}");
        }
    }

    /// <summary>A tokenizer.json's vocabulary and added tokens; a missing or unreadable one is a problem.</summary>
    private static (IReadOnlyDictionary<string, long> Vocabulary, IReadOnlyDictionary<string, AddedToken> Added) ReadTokenizer(string folder, string who, List<string> problems)
    {
        try
        {
            using var file = TokenizerFile.Open(folder);
            if (!File.Exists(file.FilePath))
            {
                problems.Add($"{who} has no {TokenizerFile.FileName} ({file.FilePath}); the vocabularies are matched by token text.");
                return (new Dictionary<string, long>(), new Dictionary<string, AddedToken>());
            }
            return (file.Vocabulary, AddedTokens.Read(file.FilePath));
        }
        catch (TokenizerFileException e)
        {
            problems.Add($"{who}: {e.Message}");
            return (new Dictionary<string, long>(), new Dictionary<string, AddedToken>());
        }
    }

    /// <summary>
    /// The tokenizer source's tokenizer_config.json with the added tokens in its added_tokens_decoder (when it has one,
    /// as transformers writes it) and the chat template; null when nothing changes.
    /// </summary>
    private static string? TokenizerConfig(string sourceFolder, List<AddedToken> appended, Dictionary<string, long> output, string? chatTemplateJson)
    {
        if (appended.Count == 0 && chatTemplateJson is null) return null;
        var original = new ModelSideFiles(sourceFolder, []).TokenizerConfigJson;
        var json = (JObject?)original?.DeepClone() ?? new JObject();
        if (json["added_tokens_decoder"] is JObject decoder)
            foreach (var token in appended)
                decoder[output[token.Content].ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JObject
                {
                    ["content"] = token.Content, ["lstrip"] = token.LStrip, ["normalized"] = token.Normalized,
                    ["rstrip"] = token.RStrip, ["single_word"] = token.SingleWord, ["special"] = token.Special,
                };
        if (chatTemplateJson is not null) json["chat_template"] = JToken.Parse(chatTemplateJson);
        return PortableText.IndentedJson(json);
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
