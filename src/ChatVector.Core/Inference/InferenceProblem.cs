namespace ChatVector.Core.Inference;

/// <summary>
/// What can stop inference before or while it runs; each becomes an error id in the cmdlets. A tokenizer's problems
/// are <see cref="Tokenization.TokenizerProblem"/>, a malformed side file's <see cref="Models.ModelFolderRule.SideFileInvalid"/>.
/// </summary>
public enum InferenceProblem
{
    /// <summary>config.json names an architecture the forward pass does not implement.</summary>
    UnsupportedArchitecture,
    /// <summary>config.json is missing or lacks a field the forward pass needs (or the handles are no model's).</summary>
    InvalidConfig,
    /// <summary>A weight the forward pass needs is absent or has the wrong shape.</summary>
    MissingWeight,
    /// <summary>The input has more tokens than the model (or -ContextLength) allows.</summary>
    InputTooLong,
    /// <summary>The input has fewer than two tokens, so nothing can be predicted.</summary>
    InputTooShort,
    /// <summary>A token id is outside the vocabulary.</summary>
    TokenOutOfRange,
    /// <summary>The model has no chat_template.</summary>
    ChatTemplateMissing,
    /// <summary>The chat_template is of a family ChatVector does not recognise.</summary>
    ChatTemplateNotRecognised,
}

/// <summary>A problem with the model or the input found before (or while) inference runs; the message names the file and the fix.</summary>
public sealed class InferenceException(InferenceProblem problem, string message, string? path = null, Exception? inner = null) : Exception(message, inner)
{
    public InferenceProblem Problem { get; } = problem;
    /// <summary>The file or folder the problem is about, when there is one.</summary>
    public string? Path { get; } = path;
}
