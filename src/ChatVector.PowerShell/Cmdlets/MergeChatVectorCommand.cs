using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Config;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Merges the chat vectors on the pipeline into a base model by a mergekit method (slerp, model_stock, sce, ...): one lazy handle out for every tensor of the base.</para>
/// </summary>
[Cmdlet(VerbsData.Merge, "ChatVector")]
[OutputType(typeof(TensorHandle))]
public sealed class MergeChatVectorCommand : ChatVectorCmdlet
{
    private readonly List<TensorHandle> _vectors = [];

    /// <summary>mergekit's merge_method name (tab completion lists every method).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MergeMethodCompleter))]
    public string Method { get; set; } = "";

    /// <summary>The base model the vectors were taken from (mergekit's base_model).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Model { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public TensorHandle[] InputObject { get; set; } = [];

    /// <summary>The method's merge-wide values, and defaults for every model's: @{ t = 0.5 } (mergekit's global parameters).</summary>
    [Parameter]
    public Hashtable? Parameter { get; set; }

    /// <summary>Each model's own values, in the order its vectors arrive: @(@{ weight = 0.7 }, @{ weight = 0.3 }).</summary>
    [Parameter]
    public Hashtable[]? ModelParameter { get; set; }

    /// <summary>Output dtype for floating-point tensors (default: each base tensor's own).</summary>
    [Parameter]
    [ValidateSet("BF16", "F16", "F32", "F64")]
    public string? DType { get; set; }

    protected override object? FailureTarget => Model;

    protected override void ProcessRecordCore() => _vectors.AddRange(InputObject);

    protected override void EndProcessingCore()
    {
        StopUnlessVectors(_vectors, "MergeNotPossible", "merged");
        MergePlan plan;
        StoredModel model;
        try
        {
            var method = MethodRegistry.Find(Method);
            model = StoredModel.Open(ResolveSingleExisting(Model, nameof(Model)));
            var request = new MethodMergeRequest(
                model,
                method,
                _vectors.Select(h => new PipelineVector(h.Source, h.Ratio, h.Inheritance.Provenance)).ToList(),
                ParameterTables.ToDictionary(Parameter),
                (ModelParameter ?? []).Select(t => (IReadOnlyDictionary<string, object>?)ParameterTables.ToDictionary(t)).ToList(),
                DType is null ? null : Enum.Parse<DType>(DType, ignoreCase: true)); // ValidateSet takes any case
            plan = PipelineMethodMerge.Plan(request);
        }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, Model));
            return;
        }
        ReportPlan(plan, model.Path, "not merged", $"{Method} merge");
        var context = Inheritance.ForMerge(plan, model);
        foreach (var output in plan.Outputs)
            WriteObject(new TensorHandle(output, output is Core.Tensors.StoredTensorSource ? TensorKind.Stored : TensorKind.Merged, context, model: model.Path));
    }
}

/// <summary>Tab completion of -Method: every registered mergekit method.</summary>
public sealed class MergeMethodCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        MethodRegistry.All.Select(m => m.Name).Where(n => n.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, MethodRegistry.Find(n).Description));
}
