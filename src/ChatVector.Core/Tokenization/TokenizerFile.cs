using System.Text.Json;
using Tokenizers.DotNet;

namespace ChatVector.Core.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c>, the one wrapper of the tokenizers library in ChatVector: text to ids and
/// back through HF's own tokenizers (Rust, via Tokenizers.DotNet), and the id of a token given by its exact text,
/// read from the JSON alone. Every failure is a <see cref="TokenizerFileException"/>. No type of the wrapped
/// library appears in this API (the cmdlet assembly sees Core from another load context).
/// </summary>
/// <remarks>
/// The token lookup never needs the native library, so <c>-SpecialToken</c> works where <c>libhf_tokenizers</c>
/// cannot load (its package serves linux-x64 only); encoding and decoding load the library on first use, and say
/// clearly when it is not there.
/// </remarks>
public sealed class TokenizerFile : IDisposable
{
    public const string FileName = "tokenizer.json";

    private readonly Func<string, Tokenizer> _openLibrary;
    private Tokenizer? _library;
    private bool _libraryMissing;
    private Dictionary<string, long>? _tokenIds;

    private TokenizerFile(string path, Func<string, Tokenizer> openLibrary)
    {
        FilePath = path;
        _openLibrary = openLibrary;
    }

    public string FilePath { get; }

    /// <summary>
    /// The tokenizer.json of <paramref name="path"/> (the file, or a model folder holding one). Nothing is read yet:
    /// the vocabulary is read on the first <see cref="TokenToId"/>, the library loaded on the first encode or decode.
    /// </summary>
    public static TokenizerFile Open(string path) => Open(path, file => new Tokenizer(file));

    /// <summary><see cref="Open(string)"/> with the library's loader given (tests stand in for a missing library).</summary>
    internal static TokenizerFile Open(string path, Func<string, Tokenizer> openLibrary) =>
        new(Directory.Exists(path) ? Path.Combine(path, FileName) : path, openLibrary);

    /// <summary>
    /// Opens <paramref name="path"/> for token lookups and checks it now: the file is there, its vocabulary reads,
    /// and, where the tokenizers library loads, the library builds it (a merge must not copy a tokenizer nothing can
    /// load). Where the library is missing, the lookups still work.
    /// </summary>
    /// <exception cref="TokenizerFileException">missing, not JSON, or not a tokenizer the library can build.</exception>
    public static TokenizerFile Load(string path) => Load(path, file => new Tokenizer(file));

    internal static TokenizerFile Load(string path, Func<string, Tokenizer> openLibrary)
    {
        var tokenizer = Open(path, openLibrary);
        try
        {
            tokenizer.RequireFile("the model folder needs its tokenizer.json.");
            _ = tokenizer.TryLibrary();
            _ = tokenizer.TokenIds;
            return tokenizer;
        }
        catch
        {
            tokenizer.Dispose();
            throw;
        }
    }

    /// <summary>The id of the token whose text is exactly <paramref name="token"/> (added tokens first), or null. Reads tokenizer.json only.</summary>
    public long? TokenToId(string token) => TokenIds.TryGetValue(token, out var id) ? id : null;

    /// <summary>Every token's text and id (the model's vocabulary and the added tokens, which win). Reads tokenizer.json only.</summary>
    public IReadOnlyDictionary<string, long> Vocabulary => TokenIds;

    /// <summary>The ids of <paramref name="text"/> as the tokenizer encodes it: its post-processor included (a BOS, for most LLaMA tokenizers), as transformers does by default.</summary>
    public long[] Encode(string text)
    {
        var library = Library;
        try { return library.Encode(text).Select(id => (long)id).ToArray(); }
        catch (TokenizerException e) { throw new TokenizerFileException(TokenizerProblem.TokenizerFailed, FilePath, $"encoding failed: {e.Message}", e); }
    }

    /// <summary>
    /// A chat-formatted prompt: the template already wrote the BOS where the model wants one, so the BOS the
    /// tokenizer's post-processor adds in front is dropped when it would double it (transformers tokenizes a
    /// formatted chat without added special tokens).
    /// </summary>
    public long[] EncodeFormatted(string text)
    {
        var ids = Encode(text);
        var added = Encode("");
        bool doubled = added.Length > 0 && ids.Length >= 2 * added.Length
            && ids.AsSpan(0, added.Length).SequenceEqual(added) && ids.AsSpan(added.Length, added.Length).SequenceEqual(added);
        return doubled ? ids[added.Length..] : ids;
    }

    /// <summary>The text of <paramref name="ids"/>; special tokens (bos, eos, chat markers) are left out, as the library decodes.</summary>
    public string Decode(IEnumerable<long> ids)
    {
        var library = Library;
        try { return library.Decode(ids.Select(id => checked((uint)id)).ToArray()); }
        catch (TokenizerException e) { throw new TokenizerFileException(TokenizerProblem.TokenizerFailed, FilePath, $"decoding failed: {e.Message}", e); }
    }

    /// <summary>Why text cannot be encoded or decoded here, for the errors and warnings that say so.</summary>
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

    public void Dispose() => _library?.Dispose();

    private const string TextAdvice = "copy the model's tokenizer.json into the folder, or pass token ids with -TokenIds.";

    private Tokenizer Library
    {
        get
        {
            if (_library is { } loaded) return loaded;
            RequireFile($"text cannot be turned into tokens without it; {TextAdvice}");
            return TryLibrary() ?? throw new TokenizerFileException(TokenizerProblem.TokenizerLibraryMissing, FilePath,
                $"{LibraryMissingMessage}; pass pre-tokenized input with -TokenIds.");
        }
    }

    /// <summary>The library's tokenizer, loaded once; null where the native library is missing.</summary>
    private Tokenizer? TryLibrary()
    {
        if (_library is not null || _libraryMissing) return _library;
        try { return _library = _openLibrary(FilePath); }
        catch (TokenizerException e)
        {
            throw new TokenizerFileException(TokenizerProblem.TokenizerFailed, FilePath, $"not a tokenizer the tokenizers library can load ({e.Message}).", e);
        }
        catch (Exception e) when (IsLibraryMissing(e))
        {
            _libraryMissing = true;
            return null;
        }
    }

    private void RequireFile(string why)
    {
        if (!File.Exists(FilePath)) throw new TokenizerFileException(TokenizerProblem.TokenizerMissing, FilePath, $"no such file; {why}");
    }

    private Dictionary<string, long> TokenIds
    {
        get
        {
            if (_tokenIds is not null) return _tokenIds;
            RequireFile("the model folder needs its tokenizer.json.");
            try { return _tokenIds = ReadTokenIds(FilePath); }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                var detail = e is JsonException json
                    ? $"it is not valid JSON{Format.JsonProblems.Where(json)}"
                    : "model.vocab or added_tokens is not in tokenizer.json's form (token text to integer id)";
                throw new TokenizerFileException(TokenizerProblem.TokenizerFailed, FilePath, $"its vocabulary cannot be read: {detail}.", e);
            }
        }
    }

    // Why read the JSON here at all: Tokenizers.DotNet 1.4.1 offers only Encode/Decode, no token-to-id lookup,
    // and encoding a token's text is no substitute (a post-processor adds BOS, a missing token encodes to pieces
    // or <unk>). Reading added_tokens and model.vocab directly also needs no native library.
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
