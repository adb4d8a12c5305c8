namespace ChatVector.Core.Config;

/// <summary>Where the output's vocabulary comes from: the base model's tokenizer, the union of every model's, or one model's.</summary>
public enum TokenizerSourceKind { Base, Union, Model }

/// <summary>Where a token's embedding row comes from when a model lacks it (or, forced, for every model).</summary>
public abstract record TokenEmbeddingSource;

/// <summary>The token's own row in <paramref name="Model"/> (which must have the token).</summary>
public sealed record ModelRowSource(ConfigModel Model) : TokenEmbeddingSource;

/// <summary>The row of another token of <paramref name="Model"/>, named by its text or by its id (mergekit's <c>kind: model_token</c>).</summary>
public sealed record ModelTokenSource(ConfigModel Model, string? Token, long? TokenId) : TokenEmbeddingSource;

/// <summary>A row of zeros (mergekit's <c>kind: zero</c>).</summary>
public sealed record ZeroRowSource : TokenEmbeddingSource;

/// <summary>One entry of <c>tokenizer.tokens</c>: the token (added to the vocabulary when missing), its row's source, and whether that source replaces every model's own row.</summary>
public sealed record TokenSetting(string Token, TokenEmbeddingSource Source, bool Force);

/// <summary>
/// A config's <c>tokenizer_source</c> or <c>tokenizer:</c> section: the output vocabulary's source, the tokens it sets
/// (in the config's order), and the multiple the vocabulary is padded to.
/// </summary>
/// <param name="Key">The key it was given as (<c>tokenizer_source</c> or <c>tokenizer</c>), for messages.</param>
public sealed record TokenizerSettings(TokenizerSourceKind Source, ConfigModel? Model, IReadOnlyList<TokenSetting> Tokens, int? PadToMultipleOf, string Key)
{
    /// <summary>The key of a token's setting as messages name it.</summary>
    public static string TokenKey(string token) => $"tokenizer.tokens['{token}']";
}
