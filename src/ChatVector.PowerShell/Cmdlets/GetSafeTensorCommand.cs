using System.Management.Automation;
using ChatVector.Core.Models;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Lists the tensors of a safetensors file or model folder as lazy handles.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SafeTensor", DefaultParameterSetName = PathSet)]
[OutputType(typeof(TensorHandle))]
public sealed class GetSafeTensorCommand : ChatVectorCmdlet
{
    /// <summary>Files or model folders; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>Files or model folders, taken exactly as written (Get-ChildItem output binds here; FullName for plain .NET file objects).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP", "FullName")]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Tensor names to keep; wildcards allowed.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TensorNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Tensor names to leave out; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TensorNameCompleter))]
    public string[]? Exclude { get; set; }

    protected override void ProcessRecordCore()
    {
        var include = NameFilter.Create(Name, Exclude);
        foreach (var path in ResolveExisting(Literal ? LiteralPath : Path, Literal))
        {
            try
            {
                var model = StoredModel.Open(path);
                WriteVerbose($"{path}: {model.Tensors.Count} tensors in {model.Files.Count} file(s).");
                foreach (var handle in StoredHandles.For(model, include)) WriteObject(handle);
            }
            catch (Exception e) when (!IsEngineSignal(e))
            {
                WriteError(Errors.From(e, path));
            }
        }
    }
}
