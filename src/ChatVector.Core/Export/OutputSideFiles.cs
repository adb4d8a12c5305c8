using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Export;

/// <summary>
/// The side files an output model folder gets beside its weights: config, generation config and tokenizer
/// copied from a source model (<see cref="CopyFrom"/>), the tokenizer config's chat template and eos token and the
/// generation config's eos_token_id taken from a chat model, config.json's torch_dtype, a model card. What a
/// model folder holds is <see cref="ModelSideFiles"/>; this is what an output makes of one. (No Newtonsoft type
/// appears in this API: the cmdlet assembly, in PowerShell's load context, sees a different Newtonsoft.Json than
/// this assembly does.)
/// </summary>
public sealed record OutputSideFiles(
    StoredModel? CopyFrom,
    VectorProvenance? ChatTemplateFrom = null,
    string? ModelCard = null,
    string? TorchDType = null,
    IReadOnlyDictionary<string, string>? WrittenFiles = null,
    IReadOnlyDictionary<string, long>? ConfigNumbers = null,
    IReadOnlyDictionary<string, string?>? ReplacedFiles = null)
{
    /// <summary>Side files taken from elsewhere by name (another model's tokenizer: name to its path), or left out (null).</summary>
    private IReadOnlyDictionary<string, string?> Replaced => ReplacedFiles ?? new Dictionary<string, string?>();

    /// <summary>Files written as given, by name (a config merge's <c>mergekit_config.yml</c>).</summary>
    private IReadOnlyDictionary<string, string> Written => WrittenFiles ?? new Dictionary<string, string>();

    /// <summary>The chat model's chat_template and eos_token, for tokenizer_config.json; null when it has neither.</summary>
    private JObject? TokenizerOverrides
    {
        get
        {
            if (ChatTemplateFrom is null) return null;
            var overrides = new JObject();
            if (ChatTemplateFrom.ChatTemplateJson is not null) overrides["chat_template"] = JToken.Parse(ChatTemplateFrom.ChatTemplateJson);
            if (ChatTemplateFrom.EosToken is not null) overrides["eos_token"] = ChatTemplateFrom.EosToken;
            return overrides.Count == 0 ? null : overrides;
        }
    }

    /// <summary>The chat model's eos_token_id for generation_config.json (mergekit#275: stop tokens lost); null when unknown.</summary>
    private JToken? GenerationEos => ChatTemplateFrom?.EosTokenIdJson is { } json ? JToken.Parse(json) : null;

    public const string ReadMe = "README.md";

    /// <summary>The names this will write (for -WhatIf and tests).</summary>
    public IEnumerable<string> FileNames()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in CopiedFiles) names.Add(Path.GetFileName(file));
        if (TokenizerOverrides is not null) names.Add(ModelSideFiles.TokenizerConfig);
        if (GenerationEos is not null) names.Add(ModelSideFiles.GenerationConfig);
        if (ModelCard is not null) names.Add(ReadMe);
        foreach (var name in Written.Keys) names.Add(name);
        return names;
    }

    /// <summary>
    /// About what <see cref="WriteInto"/> writes, for the free-space check: the copied files, the model card,
    /// and the tokenizer settings (JSON-escaped, so counted twice over).
    /// </summary>
    public long EstimatedBytes()
    {
        long copied = CopiedFiles.Sum(file => new FileInfo(file).Length);
        long card = ModelCard is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(ModelCard);
        long tokenizer = TokenizerOverrides is { } overrides ? 2L * PortableText.IndentedJson(overrides).Length + 4096 : 0;
        long generation = GenerationEos is null ? 0 : 4096;
        long written = Written.Values.Sum(text => (long)System.Text.Encoding.UTF8.GetByteCount(text));
        return copied + card + tokenizer + generation + written;
    }

    /// <summary>
    /// The source's side files to copy: all but its model card when this writes one (the source's card
    /// describes the source, not the merge). Names compare case-insensitively, as on Windows, where a
    /// readme.md would be the same file as the card.
    /// </summary>
    private IEnumerable<string> CopiedFiles =>
        (CopyFrom?.SideFiles?.Paths ?? []).Where(file => !Replaced.Keys.Any(name => string.Equals(Path.GetFileName(file), name, StringComparison.OrdinalIgnoreCase)))
            .Concat(Replaced.Values.OfType<string>())
            .Where(file => (ModelCard is null || !string.Equals(Path.GetFileName(file), ReadMe, StringComparison.OrdinalIgnoreCase))
            && !Written.Keys.Any(name => string.Equals(Path.GetFileName(file), name, StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// Reads and checks now the source's JSON side files (config.json, generation_config.json, tokenizer_config.json),
    /// patched or copied as they are, so that a malformed one stops the export before its first byte, naming the file
    /// (<see cref="ModelFolderRule.SideFileInvalid"/>): a folder written with a broken config.json would look complete
    /// and fail to load in transformers.
    /// </summary>
    public void Check() => CopyFrom?.SideFiles?.Check();

    public void WriteInto(string directory)
    {
        foreach (var file in CopiedFiles)
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
        // Each patched file starts from the source's copy as read (and checked) by ModelSideFiles, or from nothing
        // when the source has none; config.json gets its torch_dtype only when there is one to patch.
        var source = CopyFrom?.SideFiles;
        if (TokenizerOverrides is { } overrides)
            WritePatched(directory, ModelSideFiles.TokenizerConfig, source?.TokenizerConfigJson, json => json.Merge(overrides, new JsonMergeSettings { MergeArrayHandling = MergeArrayHandling.Replace }));
        if (GenerationEos is { } eos) WritePatched(directory, ModelSideFiles.GenerationConfig, source?.GenerationConfigJson, json => json["eos_token_id"] = eos.DeepClone());
        if ((TorchDType is not null || ConfigNumbers is { Count: > 0 }) && source?.ConfigJson is { } config)
            WritePatched(directory, ModelSideFiles.Config, config, json =>
            {
                if (TorchDType is not null) json["torch_dtype"] = TorchDType;
                foreach (var (key, value) in ConfigNumbers ?? new Dictionary<string, long>()) json[key] = value; // layer stacking's num_hidden_layers
            });
        if (ModelCard is not null) File.WriteAllText(Path.Combine(directory, ReadMe), ModelCard);
        foreach (var (name, text) in Written) File.WriteAllText(Path.Combine(directory, name), text);
    }

    private static void WritePatched(string directory, string name, JObject? original, Action<JObject> patch)
    {
        var json = (JObject?)original?.DeepClone() ?? new JObject();
        patch(json);
        File.WriteAllText(Path.Combine(directory, name), PortableText.IndentedJson(json));
    }

    /// <summary>transformers' names for the output dtype, for config.json's torch_dtype.</summary>
    public static string? TorchDTypeName(Format.DType dtype) => dtype switch
    {
        Format.DType.BF16 => "bfloat16",
        Format.DType.F16 => "float16",
        Format.DType.F32 => "float32",
        Format.DType.F64 => "float64",
        _ => null,
    };
}
