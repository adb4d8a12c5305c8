using System.Text.Json;
using Tokenizers.DotNet;

namespace ChatVector.Core.Tokenization;

/// <summary>A tokenizer.json that could not be loaded: names the file and what is wrong with it.</summary>
public sealed class TokenizerFileException(string path, string message, Exception? inner = null)
    : Exception($"{path}: {message}", inner)
{
    public string FilePath { get; } = path;
}

/// <summary>
/// A Hugging Face <c>tokenizer.json</c>: text to ids and back through HF's own tokenizers library (Rust,
/// via Tokenizers.DotNet), and the id of a token given by its exact text. No type of the wrapper library
/// appears in this API (the cmdlet assembly sees Core from another load context).
/// </summary>
public sealed class TokenizerFile : IDisposable
{
    public const string FileName = "tokenizer.json";

    // Null where the tokenizers library cannot load (its package serves linux-x64 only): the token lookup
    // reads tokenizer.json itself and needs no library; encoding and decoding do.
    private readonly Tokenizer? _tokenizer;
    private readonly IReadOnlyDictionary<string, long> _tokenIds;

    private TokenizerFile(string path, Tokenizer? tokenizer, IReadOnlyDictionary<string, long> tokenIds)
    {
        FilePath = path;
        _tokenizer = tokenizer;
        _tokenIds = tokenIds;
    }

    public string FilePath { get; }

    /// <summary>Loads <paramref name="path"/>: a tokenizer.json, or a model folder holding one.</summary>
    /// <exception cref="TokenizerFileException">missing, not JSON, or not a tokenizer the library can build.</exception>
    public static TokenizerFile Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file)) throw new TokenizerFileException(file, "no such file; the model folder needs its tokenizer.json.");
        Tokenizer? tokenizer;
        try { tokenizer = new Tokenizer(file); }
        catch (TokenizerException e) { throw new TokenizerFileException(file, $"not a tokenizer the tokenizers library can load ({e.Message}).", e); }
        catch (Exception e) when (IsLibraryMissing(e)) { tokenizer = null; } // the lookup still works from the JSON
        try { return new TokenizerFile(file, tokenizer, ReadTokenIds(file)); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            tokenizer?.Dispose();
            var detail = e is JsonException json
                ? $"it is not valid JSON{Format.JsonProblems.Where(json)}"
                : "model.vocab or added_tokens is not in tokenizer.json's form (token text to integer id)";
            throw new TokenizerFileException(file, $"its vocabulary cannot be read: {detail}.", e);
        }
    }

    /// <summary>The id of the token whose text is exactly <paramref name="token"/> (added tokens first), or null.</summary>
    public long? TokenToId(string token) => _tokenIds.TryGetValue(token, out var id) ? id : null;

    /// <summary>The ids of <paramref name="text"/> as the tokenizer encodes it (its post-processor included).</summary>
    public IReadOnlyList<long> Encode(string text) => Library.Encode(text).Select(id => (long)id).ToList();

    /// <summary>The text of <paramref name="ids"/> (special tokens are left out, as the library decodes).</summary>
    public string Decode(IEnumerable<long> ids) => Library.Decode(ids.Select(id => checked((uint)id)).ToArray());

    private Tokenizer Library => _tokenizer ?? throw new TokenizerFileException(FilePath, LibraryMissingMessage);

    /// <summary>Why text cannot be encoded or decoded here, for the errors that say so.</summary>
    public static string LibraryMissingMessage =>
        $"the Hugging Face tokenizers native library (hf_tokenizers) is not available on {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier} " +
        "(ChatVector ships it for linux-x64 only), so text cannot be turned into token ids or back";

    /// <summary>True when <paramref name="e"/> says the tokenizers native library is absent or unusable on this platform.</summary>
    public static bool IsLibraryMissing(Exception e) => e switch
    {
        DllNotFoundException or EntryPointNotFoundException or BadImageFormatException => true,
        TypeInitializationException { InnerException: { } inner } => IsLibraryMissing(inner),
        _ => false,
    };

    public void Dispose() => _tokenizer?.Dispose();

    // Why read the JSON here at all: Tokenizers.DotNet 1.4.1 offers only Encode/Decode, no token-to-id lookup,
    // and encoding a token's text is no substitute (a post-processor adds BOS, a missing token encodes to pieces
    // or <unk>). So this lookup alone reads tokenizer.json's added_tokens and model.vocab directly.
    private static Dictionary<string, long> ReadTokenIds(string file)
    {
        using var stream = File.OpenRead(file);
        using var json = JsonDocument.Parse(stream);
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        if (json.RootElement.TryGetProperty("model", out var model) && model.TryGetProperty("vocab", out var vocab))
            ReadVocab(vocab, ids);
        if (json.RootElement.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var token in added.EnumerateArray())
                ids[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt64(); // added tokens win
        return ids;
    }

    /// <summary>BPE, WordPiece, WordLevel: {"text": id}; Unigram: [["text", score], ...], the id being the index.</summary>
    private static void ReadVocab(JsonElement vocab, Dictionary<string, long> ids)
    {
        if (vocab.ValueKind == JsonValueKind.Object)
            foreach (var entry in vocab.EnumerateObject()) ids[entry.Name] = entry.Value.GetInt64();
        else if (vocab.ValueKind == JsonValueKind.Array)
        {
            long index = 0;
            foreach (var entry in vocab.EnumerateArray()) ids.TryAdd(entry[0].GetString()!, index++);
        }
    }
}
