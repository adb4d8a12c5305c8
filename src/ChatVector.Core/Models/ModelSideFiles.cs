using ChatVector.Core.Format;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Models;

/// <summary>
/// A model folder's side files: every file beside the weights (<see cref="Paths"/>, what an export copies), and the
/// one reader of the three JSON ones ChatVector reads (config.json, generation_config.json, tokenizer_config.json).
/// Each is read and checked once, on first use, whoever asks first (a merge, an export, inference); a malformed one
/// is a <see cref="ModelFolderException"/> (<see cref="ModelFolderRule.SideFileInvalid"/>) naming the file and where
/// it breaks. An absent file reads as null: every value in it is optional.
/// </summary>
/// <remarks>
/// Values of an unexpected kind (an eos_token_id that is text) are passed over, as transformers does with what it
/// does not use, rather than refused. The parsed JSON is internal: a Newtonsoft type must not reach the cmdlet
/// assembly, which binds PowerShell's Newtonsoft.
/// </remarks>
public sealed class ModelSideFiles
{
    public const string Config = "config.json";
    public const string GenerationConfig = "generation_config.json";
    public const string TokenizerConfig = "tokenizer_config.json";

    private readonly Lazy<JObject?> _config, _generationConfig, _tokenizerConfig;

    internal ModelSideFiles(string directory, IReadOnlyList<string> paths)
    {
        Directory = directory;
        Paths = paths;
        _config = new(() => Read(Config));
        _generationConfig = new(() => Read(GenerationConfig));
        _tokenizerConfig = new(() => Read(TokenizerConfig));
    }

    /// <summary>
    /// The side files inference reads for <paramref name="model"/>: a folder's own, or for a single weights file those
    /// beside it (its config.json). A single file opened as a model has no side files otherwise: a merge or copy of it
    /// takes nothing from beside it.
    /// </summary>
    public static ModelSideFiles ForInference(StoredModel model) => model.SideFiles ?? new(model.Directory, []);

    /// <summary>The folder the files are in.</summary>
    public string Directory { get; }

    /// <summary>Files of the folder that are not weights or the index (config, tokenizer, generation config...), full paths.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>The full path of the side file named <paramref name="fileName"/>, whether or not it exists.</summary>
    public string PathOf(string fileName) => Path.Combine(Directory, fileName);

    /// <summary>config.json, or null when absent.</summary>
    internal JObject? ConfigJson => _config.Value;
    /// <summary>generation_config.json, or null when absent.</summary>
    internal JObject? GenerationConfigJson => _generationConfig.Value;
    /// <summary>tokenizer_config.json, or null when absent.</summary>
    internal JObject? TokenizerConfigJson => _tokenizerConfig.Value;

    /// <summary>Reads and checks all three JSON side files now, so that no later reader can fail on them.</summary>
    public void Check()
    {
        _ = ConfigJson;
        _ = GenerationConfigJson;
        _ = TokenizerConfigJson;
    }

    /// <summary><c>tie_word_embeddings</c> from config.json (false when absent).</summary>
    public bool TiedEmbeddings => ConfigJson?["tie_word_embeddings"] is JValue { Type: JTokenType.Boolean } tied && (bool)tied;

    /// <summary>tokenizer_config.json's <c>chat_template</c> as compact JSON text (a string, or a list of named templates), or null.</summary>
    public string? ChatTemplateJson => TokenizerConfigJson?["chat_template"]?.ToString(Formatting.None);

    /// <summary>The chat template to format a prompt with: the <c>chat_template</c> string, or from a list of named templates the one called "default".</summary>
    public string? ChatTemplate => TokenizerConfigJson?["chat_template"] switch
    {
        JValue { Type: JTokenType.String } text => (string)text!,
        JArray named => named.OfType<JObject>().FirstOrDefault(t => t["name"]?.ToString() == "default")?["template"]?.ToString(),
        _ => null,
    };

    /// <summary>tokenizer_config.json's <c>eos_token</c> text, or null.</summary>
    public string? EosToken => TokenText(TokenizerConfigJson?["eos_token"]);

    /// <summary>tokenizer_config.json's <c>bos_token</c> text, or null.</summary>
    public string? BosToken => TokenText(TokenizerConfigJson?["bos_token"]);

    /// <summary>
    /// generation_config.json's <c>eos_token_id</c> (an id or a list of ids) as compact JSON text, or null: what a
    /// merged model's generation config gets from the chat model.
    /// </summary>
    public string? EosTokenIdJson =>
        GenerationConfigJson?["eos_token_id"] is { Type: JTokenType.Integer or JTokenType.Array } id ? id.ToString(Formatting.None) : null;

    /// <summary>
    /// The ids generation stops at: generation_config.json's <c>eos_token_id</c> (one id or a list), else
    /// config.json's (older models keep it there); empty when neither has one.
    /// </summary>
    public IReadOnlySet<long> EosIds
    {
        get
        {
            var ids = EosIdsIn(GenerationConfigJson);
            return (ids.Length > 0 ? ids : EosIdsIn(ConfigJson)).ToHashSet();
        }
    }

    private static long[] EosIdsIn(JObject? json) => json?["eos_token_id"] switch
    {
        JValue { Type: JTokenType.Integer } one => [(long)one],
        JArray many => many.OfType<JValue>().Where(v => v.Type == JTokenType.Integer).Select(v => (long)v).ToArray(),
        _ => [],
    };

    /// <summary>A special token in tokenizer_config.json: a string, or an AddedToken object whose text is its "content".</summary>
    private static string? TokenText(JToken? token) => token switch
    {
        JValue { Type: JTokenType.String } text => (string?)text,
        JObject { } added when added["content"] is JValue { Type: JTokenType.String } content => (string?)content,
        _ => null,
    };

    private JObject? Read(string fileName)
    {
        var path = PathOf(fileName);
        if (!File.Exists(path)) return null;
        return JsonProblems.ReadObjectFile(path, (detail, inner) => new ModelFolderException(ModelFolderRule.SideFileInvalid, path, detail, inner: inner));
    }
}
