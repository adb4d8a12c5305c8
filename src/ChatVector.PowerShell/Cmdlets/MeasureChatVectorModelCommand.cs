using System.Management.Automation;
using ChatVector.Core.Inference;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;
using ChatVector.PowerShell.Output;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Measures how well models predict a text: mean next-token negative log-likelihood and perplexity, streaming the model layer by layer.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "ChatVectorModel", DefaultParameterSetName = TextSet)]
[OutputType(typeof(ModelMeasurement))]
public sealed class MeasureChatVectorModelCommand : ChatVectorCmdlet
{
    private const string TextSet = "Text";
    private const string TokenIdsSet = "TokenIds";

    private ComputeContext? _context;
    private readonly HandleModelGroups _groups = new();
    private List<(string Label, string? Text, long[]? Ids)>? _inputs;
    private bool _modelsOnCommandLine;

    /// <summary>Model folders (or safetensors files with their config beside them); by property name, so objects with a Model or FullName property can be piped.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    public string[]? Model { get; set; }

    /// <summary>Tensor handles of one or more models (Add-ChatVector's merges, Get-SafeTensor's models): each producer's handles are one model, measured without writing it.</summary>
    [Parameter(ValueFromPipeline = true)]
    public TensorHandle[]? InputObject { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = TextSet)]
    public string[] Text { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("LP")]
    public string[] LiteralPath { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = TokenIdsSet)]
    public int[] TokenIds { get; set; } = [];

    [Parameter]
    [ArgumentCompleter(typeof(DeviceCompleter))]
    public string? Device { get; set; }

    /// <summary>The most tokens an input may have (at most the model's max_position_embeddings).</summary>
    [Parameter]
    [ValidateRange(2, int.MaxValue)]
    public int? ContextLength { get; set; }

    protected override void BeginProcessingCore()
    {
        _modelsOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Model));
        if (!_modelsOnCommandLine && !MyInvocation.ExpectingInput && InputObject is not { Length: > 0 })
            ThrowTerminatingError(Errors.Argument("Give -Model (model folders), or pipe model folders or the tensor handles of a model or merge.", null));
        _context = CreateComputeContext(Device);
        _inputs = ReadInputs();
    }

    protected override void ProcessRecordCore()
    {
        try
        {
            if (InputObject is { Length: > 0 } handles)
            {
                if (_modelsOnCommandLine)
                    ThrowTerminatingError(Errors.Argument("Give models either with -Model or as tensor handles on the pipeline, not both.", Model));
                foreach (var handle in handles) Gather(handle);
                return;
            }
            FlushPending();
            foreach (var model in (Model ?? []).Select(p => ResolveSingleExisting(p, nameof(Model)))) MeasureFolder(model);
        }
        finally
        {
            // Pipeline-bound values must not leak into the next record.
            InputObject = null;
            if (!_modelsOnCommandLine) Model = null;
        }
    }

    protected override void EndProcessingCore() => FlushPending();

    private void Gather(TensorHandle handle)
    {
        if (_groups.Add(handle) is { } closed) MeasureGroup(closed);
    }

    private void FlushPending()
    {
        if (_groups.Finish() is { } last) MeasureGroup(last);
    }

    private void MeasureGroup(HandleModel group)
    {
        WriteVerbose($"{group.Count} handles of {group.Name} form one model.");
        Measure(group.Name, group.Ratio, () => group.Open(_context!));
    }

    private void MeasureFolder(string path) =>
        Measure(path, null, () => LanguageModel.Open(StoredModel.Open(path), _context!));

    private void Measure(string name, double? ratio, Func<LanguageModel> open)
    {
        LanguageModel model;
        try { model = open(); }
        catch (Exception e) when (!IsEngineSignal(e) && e is not OperationCanceledException)
        {
            WriteError(Errors.From(e, name));
            return;
        }
        using (model)
            foreach (var (label, text, ids) in _inputs!)
            {
                try
                {
                    ReportProgress(3, "Measure-ChatVectorModel", $"{name}: {label}", 0);
                    var tokens = ids ?? model.Tokenizer.Encode(text!);
                    var result = model.Measure(tokens, ContextLength);
                    WriteObject(new ModelMeasurement(name, ratio, label, result.Tokens, result.NegativeLogLikelihood));
                }
                catch (Exception e) when (!IsEngineSignal(e) && e is not OperationCanceledException)
                {
                    // Which input failed, where several are scored (files, a wildcard), besides the model it ran on.
                    var record = Errors.From(e, name);
                    record.ErrorDetails = new ErrorDetails($"{label}: {record.ErrorDetails?.Message ?? e.Message}") { RecommendedAction = record.ErrorDetails?.RecommendedAction };
                    WriteError(record);
                }
            }
        ReportProgress(3, "Measure-ChatVectorModel", "done", 1, final: true);
    }

    /// <summary>The inputs, read once: each text, each file's whole text, or the token ids.</summary>
    private List<(string, string?, long[]?)> ReadInputs()
    {
        var inputs = new List<(string, string?, long[]?)>();
        switch (ParameterSetName)
        {
            case TextSet:
                foreach (var text in Text) inputs.Add((Label(text), text, null));
                break;
            case TokenIdsSet:
                inputs.Add(($"{TokenIds.Length} token ids", null, TokenIds.Select(id => (long)id).ToArray()));
                break;
            default:
                var files = ResolveExisting(Literal ? LiteralPath : Path, Literal);
                foreach (var file in files)
                {
                    // Reading a folder as text fails with the system's "access denied", which sends the user to the permissions.
                    if (Directory.Exists(file))
                        ThrowTerminatingError(Errors.Argument($"{file} is a folder; -{(Literal ? "LiteralPath" : "Path")} names text files to score (a wildcard such as {System.IO.Path.Combine(file, "*.txt")} selects those in it).", file));
                    inputs.Add((System.IO.Path.GetFileName(file), ReadText(file), null));
                }
                break;
        }
        return inputs;
    }

    /// <summary>
    /// A text file as UTF-8 (or as its byte-order mark says). Bytes that are not UTF-8 (a Latin-1 file) would become
    /// U+FFFD and then unknown tokens, scoring another text than the file's: a warning names the file.
    /// </summary>
    private string ReadText(string file)
    {
        try { return File.ReadAllText(file, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true)); }
        catch (System.Text.DecoderFallbackException)
        {
            WriteWarning($"{file} is not valid UTF-8 (saved in another encoding?): its invalid bytes are read as U+FFFD, so another text than the file's is scored. Save it as UTF-8.");
            return File.ReadAllText(file);
        }
    }

    private static string Label(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ").Trim();
        return oneLine.Length <= 24 ? oneLine : oneLine[..23] + "…";
    }
}
