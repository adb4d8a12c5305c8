using System.Management.Automation;
using ChatVector.Core.Inference;
using ChatVector.Core.Tokenization;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;
using ChatVector.PowerShell.Output;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Continues a prompt with a model by greedy decoding, stopping at the model's end-of-sequence token.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ChatVectorModel", DefaultParameterSetName = PromptSet)]
[OutputType(typeof(GeneratedText))]
public sealed class InvokeChatVectorModelCommand : ChatVectorCmdlet
{
    private const string PromptSet = "Prompt";
    private const string TokenIdsSet = "TokenIds";
    private ComputeContext? _context;
    private readonly HandleModelGroups _groups = new();
    private bool _modelsOnCommandLine;

    /// <summary>The model folder; by property name, so several models can be piped.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    public string[]? Model { get; set; }

    /// <summary>Tensor handles of one or more models (Add-ChatVector's merges, Import-MergeConfig's): each producer's handles are one model, run without writing it.</summary>
    [Parameter(ValueFromPipeline = true)]
    public TensorHandle[]? InputObject { get; set; }

    /// <summary>
    /// The text to continue. Required in its set, but checked here rather than by the binder: with piped handles a
    /// lone positional value binds to -Model (position 0) before the pipeline is seen, and is then the prompt.
    /// </summary>
    [Parameter(Position = 1, ParameterSetName = PromptSet)]
    [AllowEmptyString]
    [ValidateNotNull]
    public string Prompt { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = TokenIdsSet)]
    public int[] TokenIds { get; set; } = [];

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int MaxNewTokens { get; set; } = 64;

    /// <summary>Formats the prompt as one user message with the model's chat_template (recognised families only).</summary>
    [Parameter(ParameterSetName = PromptSet)]
    public SwitchParameter ChatTemplate { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(DeviceCompleter))]
    public string? Device { get; set; }

    protected override void BeginProcessingCore()
    {
        _modelsOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Model));
        if (ParameterSetName == PromptSet && !MyInvocation.BoundParameters.ContainsKey(nameof(Prompt)))
            TakePositionalValueAsPrompt();
        if (!_modelsOnCommandLine && !MyInvocation.ExpectingInput && InputObject is not { Length: > 0 })
            ThrowTerminatingError(Errors.Argument("Give -Model (a model folder), or pipe model folders or the tensor handles of a model or merge.", null));
        _context = CreateComputeContext(Device);
    }

    /// <summary>
    /// <c>$merge | Invoke-ChatVectorModel 'the cat'</c>: the one value before the pipeline's handles is the prompt,
    /// not a model folder. The binder cannot say whether -Model was bound by position or by name, so a value naming an
    /// existing file or folder stays a model (piped handles then meet the "not both" error). Anything else without a
    /// prompt is an error, never an interactive prompt for one.
    /// </summary>
    private void TakePositionalValueAsPrompt()
    {
        if (!_modelsOnCommandLine || Model is not [var text] || !MyInvocation.ExpectingInput)
        {
            ThrowTerminatingError(Errors.Argument("Give -Prompt (the text to continue) or -TokenIds.", null));
            return;
        }
        if (NamesExistingPath(text))
            ThrowTerminatingError(Errors.Argument($"'{text}' names an existing file or folder, so it was taken as -Model; give the prompt by name: -Prompt '{text}'.", text));
        WriteVerbose($"'{text}' is the prompt: the model is the tensor handles piped in.");
        Prompt = text;
        Model = null;
        _modelsOnCommandLine = false;
    }

    private bool NamesExistingPath(string text)
    {
        try
        {
            string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(text);
            return Directory.Exists(path) || File.Exists(path);
        }
        catch (Exception e) when (!IsEngineSignal(e)) // not a path at all (an unknown drive, characters a path cannot hold)
        {
            return false;
        }
    }

    protected override void ProcessRecordCore()
    {
        try
        {
            // A handle also carries a Model property (the folder it came from), which binds by name: a merge's handles
            // are the merged model, never that folder run once per tensor.
            if (InputObject is { Length: > 0 } handles)
            {
                if (_modelsOnCommandLine)
                    ThrowTerminatingError(Errors.Argument("Give models either with -Model or as tensor handles on the pipeline, not both.", Model));
                foreach (var handle in handles)
                    if (_groups.Add(handle) is { } closed) Generate(closed);
                return;
            }
            if (_groups.Finish() is { } last) Generate(last);
            foreach (var path in (Model ?? []).Select(p => ResolveSingleExisting(p, nameof(Model))))
                Generate(path, () => LanguageModel.Open(StoredModel.Open(path), _context!));
        }
        finally
        {
            // Pipeline-bound values must not leak into the next record.
            InputObject = null;
            if (!_modelsOnCommandLine) Model = null;
        }
    }

    protected override void EndProcessingCore()
    {
        if (_groups.Finish() is { } last) Generate(last);
    }

    private void Generate(HandleModel group)
    {
        WriteVerbose($"{group.Count} handles of {group.Name} form one model.");
        Generate(group.Name, () => group.Open(_context!));
    }

    private void Generate(string path, Func<LanguageModel> open)
    {
        try
        {
            using var model = open();
            var prompt = PromptIds(model);
            WriteVerbose($"{path}: {prompt.Length} prompt tokens, up to {MaxNewTokens} new ones.");
            var generated = model.Generate(prompt, MaxNewTokens, onToken: count =>
                ReportProgress(4, "Invoke-ChatVectorModel", $"{path}: {count} of at most {MaxNewTokens} tokens", (double)count / MaxNewTokens)).ToArray();
            ReportProgress(4, "Invoke-ChatVectorModel", "done", 1, final: true);
            bool stopped = generated.Length > 0 && model.EosIds.Contains(generated[^1]);
            string? text = ParameterSetName == TokenIdsSet ? TextIfDecodable(model, generated, path) : model.Tokenizer.Decode(generated);
            WriteObject(new GeneratedText(path, text, generated, stopped));
        }
        catch (Exception e) when (!IsEngineSignal(e) && e is not OperationCanceledException)
        {
            WriteError(Errors.From(e, path));
        }
    }

    /// <summary>
    /// A -TokenIds run needs no tokenizer, so its ids come back even where they cannot be decoded: from a folder
    /// without tokenizer.json, or where the tokenizers library is not shipped (win-x64), with a warning saying so.
    /// </summary>
    private string? TextIfDecodable(LanguageModel model, long[] generated, string path)
    {
        if (!File.Exists(System.IO.Path.Combine(model.Directory, TokenizerFile.FileName))) return null;
        try { return model.Tokenizer.Decode(generated); }
        catch (TokenizerFileException e) when (e.Problem == TokenizerProblem.TokenizerLibraryMissing)
        {
            WriteWarning($"{path}: the generated token ids are returned without text: {TokenizerFile.LibraryMissingMessage}.");
            return null;
        }
    }

    private long[] PromptIds(LanguageModel model)
    {
        if (ParameterSetName == TokenIdsSet) return TokenIds.Select(id => (long)id).ToArray();
        if (!ChatTemplate) return model.Tokenizer.Encode(Prompt);
        var text = ChatTemplates.Format(model.SideFiles, Prompt);
        WriteVerbose($"Formatted prompt: {text}");
        return model.Tokenizer.EncodeFormatted(text);
    }
}
