namespace ChatVector.Core.Tokenization;

/// <summary>What can go wrong with a tokenizer.json; each name is the error id users see.</summary>
public enum TokenizerProblem
{
    /// <summary>The model folder has no tokenizer.json.</summary>
    TokenizerMissing,
    /// <summary>tokenizer.json cannot be read (not JSON, a vocabulary not in its form), the library refuses it, or it could not encode/decode.</summary>
    TokenizerFailed,
    /// <summary>The Hugging Face tokenizers native library is not there for this platform: no text in or out; token lookups still work.</summary>
    TokenizerLibraryMissing,
}

/// <summary>A tokenizer.json that cannot do what was asked of it: names the file, the problem and what to do.</summary>
public sealed class TokenizerFileException(TokenizerProblem problem, string path, string detail, Exception? inner = null)
    : Exception($"{path}: {detail}", inner)
{
    public TokenizerProblem Problem { get; } = problem;
    public string FilePath { get; } = path;
}
