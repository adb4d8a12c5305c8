using System.Management.Automation;
using ChatVector.Core.Export;
using ChatVector.Core.Lora;
using ChatVector.Core.Models;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Emits a PEFT LoRA adapter as chat-vector handles: scaling·B·A per module, under the model's tensor names.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "LoraVector", DefaultParameterSetName = PathSet)]
[OutputType(typeof(TensorHandle))]
public sealed class GetLoraVectorCommand : ChatVectorCmdlet
{
    /// <summary>Adapter folders (adapter_config.json and adapter_model.safetensors); wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>Adapter folders, taken exactly as written (Get-ChildItem output binds here).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP", "FullName")]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>The model the adapter was trained on: its shapes are checked, and a tensor the adapter saves whole becomes saved − base.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Base { get; set; } = "";

    /// <summary>Tensor names (the model's) to take; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Tensor names (the model's) to leave out; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Exclude { get; set; }

    /// <summary>The ratio these vectors are added with; overrides Add-ChatVector -Ratio for them.</summary>
    [Parameter]
    public double? Ratio { get; set; }

    private StoredModel? _base;

    protected override object? FailureTarget => Base;

    protected override void ProcessRecordCore()
    {
        _base ??= OpenBase();
        var include = NameFilter.Create(Name, Exclude);
        foreach (var path in ResolveExisting(Literal ? LiteralPath : Path, Literal))
        {
            LoraAdapter adapter;
            IReadOnlyList<Core.Tensors.ITensorSource> vectors;
            Core.Merge.VectorProvenance provenance;
            try
            {
                adapter = LoraAdapter.Open(path).FitTo(_base);
                provenance = adapter.ProvenanceOn(_base);
                vectors = LoraVectors.Of(adapter, _base, provenance, include);
            }
            catch (Exception e) when (!IsEngineSignal(e))
            {
                // Terminating: a merge without this adapter's vectors would look complete.
                ThrowTerminatingError(Errors.From(e, path));
                return;
            }
            WriteVerbose($"{adapter.Path}: {adapter.Modules.Count} LoRA module(s) and {adapter.Wholes.Count} whole tensor(s); {vectors.Count} vector tensor(s) on {_base.Path}.");
            foreach (var warning in adapter.Warnings) WriteWarning(warning);
            if (vectors.Count == 0)
                WriteWarning($"{adapter.Path}: no vector comes out: the adapter changes no tensor{(MyInvocation.BoundParameters.ContainsKey("Name") ? " that -Name matches" : "")}.");
            var inheritance = Inheritance.ForVector(provenance);
            foreach (var vector in vectors)
                WriteObject(new TensorHandle(vector, TensorKind.ChatVector, inheritance, model: adapter.Path) { Ratio = Ratio });
        }
    }

    private StoredModel OpenBase()
    {
        try { return StoredModel.Open(ResolveSingleExisting(Base, nameof(Base))); }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, Base));
            throw; // unreachable
        }
    }
}
