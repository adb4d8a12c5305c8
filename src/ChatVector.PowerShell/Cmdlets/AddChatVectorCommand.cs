using System.Collections;
using System.Globalization;
using System.Management.Automation;
using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Adds chat vectors from the pipeline to a model: one lazy handle out for every tensor of the model.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "ChatVector")]
[OutputType(typeof(TensorHandle))]
public sealed class AddChatVectorCommand : ChatVectorCmdlet
{
    private readonly List<TensorHandle> _vectors = [];

    /// <summary>The model to add to: the base continually pre-trained on a new language.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Model { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public TensorHandle[] InputObject { get; set; } = [];

    /// <summary>Ratio for vectors that do not carry their own (1.0 by default).</summary>
    [Parameter]
    public double Ratio { get; set; } = 1.0;

    /// <summary>Leave the embedding and LM head as the model's (the paper's --skip_embed).</summary>
    [Parameter]
    public SwitchParameter SkipEmbedding { get; set; }

    /// <summary>@{ modelTokenId = chatTokenId }: those embedding/LM-head rows become the chat model's.</summary>
    [Parameter]
    public Hashtable? SpecialTokenMap { get; set; }

    /// <summary>Special tokens by text (e.g. '&lt;|im_end|&gt;'): their embedding/LM-head rows become the chat model's; ids from both tokenizer.json files.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SpecialToken { get; set; }

    /// <summary>Sign consensus per element: None (every contribution), Sum (sign of Σ ratio·vector), Count (sign by vote).</summary>
    [Parameter]
    [ValidateSet(nameof(ConsensusMethod.None), nameof(ConsensusMethod.Sum), nameof(ConsensusMethod.Count))]
    public string Consensus { get; set; } = nameof(ConsensusMethod.None);

    /// <summary>Divide the mix by the sum of the (kept) contributions' ratios.</summary>
    [Parameter]
    public SwitchParameter Normalize { get; set; }

    /// <summary>mergekit's lambda: the mix (after consensus and normalizing) is multiplied by it before it is added (1 by default).</summary>
    [Parameter]
    [ValidateRange(-1000.0, 1000.0)]
    public double Lambda { get; set; } = 1.0;

    /// <summary>The chat model to take special-token rows from (default: the last vector's chat model).</summary>
    [Parameter]
    public string? ChatModel { get; set; }

    /// <summary>The model whose chat_template and eos_token the output gets (default: the last vector's chat model).</summary>
    [Parameter]
    public string? ChatTemplateFrom { get; set; }

    /// <summary>Output dtype for floating-point tensors (default: each model tensor's own).</summary>
    [Parameter]
    [ValidateSet("BF16", "F16", "F32", "F64")]
    public string? DType { get; set; }

    protected override object? FailureTarget => Model;

    protected override void ProcessRecordCore() => _vectors.AddRange(InputObject);

    protected override void EndProcessingCore()
    {
        StopUnlessVectors(_vectors, "AddNotPossible", "added");
        MergePlan plan;
        StoredModel model;
        try
        {
            model = StoredModel.Open(ResolveSingleExisting(Model, nameof(Model)));
            var request = new MergeRequest(
                model,
                _vectors.Select(h => new VectorInput(h.Source, h.Ratio ?? Ratio, h.Inheritance.Provenance)).ToList(),
                SkipEmbedding,
                ParseTokenMap(SpecialTokenMap),
                DType is null ? null : Enum.Parse<DType>(DType, ignoreCase: true), // ValidateSet takes any case
                OpenOptional(ChatModel, nameof(ChatModel)),
                OpenOptional(ChatTemplateFrom, nameof(ChatTemplateFrom)),
                new MixOptions(Enum.Parse<ConsensusMethod>(Consensus, ignoreCase: true), Normalize.IsPresent, Lambda),
                SpecialToken ?? []);
            plan = MergePlanner.Plan(request);
        }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, Model));
            return;
        }
        if (_vectors.Count == 0) WriteWarning($"No vector arrived on the pipeline: every tensor of {model.Path} passes through unchanged.");
        ReportPlan(plan, model.Path, "not added", "merge");
        var context = Inheritance.ForMerge(plan, model);
        WriteVerbose($"{plan.Outputs.Count(o => o is MergedTensor)} of {plan.Outputs.Count} tensors get a vector; the others pass through unchanged.");
        foreach (var output in plan.Outputs)
            WriteObject(new TensorHandle(output, output is MergedTensor ? TensorKind.Merged : TensorKind.Stored, context, model: model.Path));
    }

    private StoredModel? OpenOptional(string? path, string parameterName) =>
        path is null ? null : StoredModel.Open(ResolveSingleExisting(path, parameterName));

    private static Dictionary<long, long> ParseTokenMap(Hashtable? table)
    {
        var map = new Dictionary<long, long>();
        foreach (DictionaryEntry entry in table ?? new Hashtable())
        {
            if (!long.TryParse(Convert.ToString(entry.Key, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var modelId)
                || !long.TryParse(Convert.ToString(entry.Value, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var chatId))
                throw new ArgumentException($"-SpecialTokenMap entry {entry.Key} = {entry.Value}: both must be integer token ids, as @{{ 128009 = 128009 }}.");
            map[modelId] = chatId;
        }
        return map;
    }
}
