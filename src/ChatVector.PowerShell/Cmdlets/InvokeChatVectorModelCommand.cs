using System.Management.Automation;
using ChatVector.Core.Inference;
using ChatVector.Core.Tokenization;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
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

    /// <summary>The model folder; by property name, so several models can be piped.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    public string[] Model { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = PromptSet)]
    [AllowEmptyString]
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
        _context = CreateComputeContext(Device);
    }

    protected override void ProcessRecordCore()
    {
        foreach (var path in Model.Select(p => ResolveSingleExisting(p, nameof(Model))))
        {
            try
            {
                using var model = LanguageModel.Open(StoredModel.Open(path), _context!);
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
