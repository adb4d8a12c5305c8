using System.Collections;
using System.Management.Automation;
using ChatVector.Core.Config;
using ChatVector.Core.Export;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Reads a mergekit YAML config and emits the merged model's lazy tensor handles, with the output's side files.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "MergeConfig")]
[OutputType(typeof(TensorHandle))]
public sealed class ImportMergeConfigCommand : ChatVectorCmdlet
{
    /// <summary>The mergekit config (YAML); model paths in it are relative to its folder.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    /// <summary>Global parameters that replace the config's (for sweeps): @{ density = 0.5; normalize = $false }.</summary>
    [Parameter]
    public Hashtable? Parameter { get; set; }

    protected override object? FailureTarget => Path;

    protected override void ProcessRecordCore()
    {
        string path = ResolveSingleExisting(Path, nameof(Path));
        ConfigPlan plan;
        try
        {
            plan = ConfigMerge.Plan(MergeConfig.Read(path, ParameterTables.ToDictionary(Parameter)));
        }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, path));
            return;
        }
        foreach (var note in plan.Notes) WriteVerbose(note);
        foreach (var warning in plan.Warnings ?? []) WriteWarning(warning);
        string merged = plan.Config.Slices is { } slices
            ? $"{slices.Count} slice(s) of {slices.SelectMany(s => s.Sources).Select(s => s.Model.Reference).Distinct().Count()} model(s)"
            : $"{plan.Config.Models.Count} model(s)";
        WriteVerbose($"{plan.Config.Method.Name} of {merged} onto {plan.Base.Path}: {plan.Outputs.Count} tensors.");
        var inheritance = Inheritance.ForConfig(plan);
        foreach (var output in plan.Outputs)
            WriteObject(new TensorHandle(output, output is Core.Tensors.StoredTensorSource ? TensorKind.Stored : TensorKind.Merged, inheritance, model: plan.Base.Path));
    }
}
