using Tokenizers.DotNet;

namespace ChatVector.Core.Inference;

/// <summary>
/// A model's tokenizer.json, run by the Hugging Face tokenizers library (Rust, through
/// Tokenizers.DotNet): encoding adds what the tokenizer's own post-processor adds (a BOS, for most
/// LLaMA tokenizers), as transformers does by default.
/// </summary>
public sealed class TextTokenizer : IDisposable
{
    private readonly Tokenizer _tokenizer;

    private TextTokenizer(Tokenizer tokenizer, string path)
    {
        _tokenizer = tokenizer;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Loads <c>tokenizer.json</c> from <paramref name="directory"/>.</summary>
    public static TextTokenizer Open(string directory)
    {
        var path = System.IO.Path.Combine(directory, Tokenization.TokenizerFile.FileName);
        if (!File.Exists(path))
            throw new InferenceException(InferenceProblem.TokenizerMissing,
                $"{directory}: no tokenizer.json, so text cannot be turned into tokens; copy the model's tokenizer.json into the folder or pass -TokenIds.", directory);
        try { return new TextTokenizer(new Tokenizer(path), path); }
        catch (Exception e) when (Tokenization.TokenizerFile.IsLibraryMissing(e))
        {
            throw new InferenceException(InferenceProblem.TokenizerLibraryMissing,
                $"{path}: {Tokenization.TokenizerFile.LibraryMissingMessage}; pass pre-tokenized input with -TokenIds.", path);
        }
        catch (TokenizerException e)
        {
            throw new InferenceException(InferenceProblem.TokenizerFailed, $"{path}: the tokenizer could not be loaded: {e.Message}", path);
        }
    }

    public long[] Encode(string text)
    {
        try { return _tokenizer.Encode(text).Select(id => (long)id).ToArray(); }
        catch (TokenizerException e) { throw new InferenceException(InferenceProblem.TokenizerFailed, $"{Path}: encoding failed: {e.Message}", Path); }
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

    /// <summary>Text of <paramref name="ids"/>; special tokens (bos, eos, chat markers) are left out.</summary>
    public string Decode(IEnumerable<long> ids)
    {
        try { return _tokenizer.Decode(ids.Select(id => checked((uint)id)).ToArray()); }
        catch (TokenizerException e) { throw new InferenceException(InferenceProblem.TokenizerFailed, $"{Path}: decoding failed: {e.Message}", Path); }
    }

    public void Dispose() => _tokenizer.Dispose();
}
