using System.Management.Automation;
using ChatVector.Core.Models;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Lists the tensors of a safetensors file or model folder as lazy handles.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SafeTensor")]
[OutputType(typeof(TensorHandle))]
public sealed class GetSafeTensorCommand : ChatVectorCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "FullName", "LiteralPath")]
    public string[] Path { get; set; } = [];

    /// <summary>Tensor names to keep; wildcards allowed.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    [Parameter]
    [SupportsWildcards]
    public string[]? Exclude { get; set; }

    protected override void ProcessRecord()
    {
        var include = NameFilter.Create(Name, Exclude);
        foreach (var path in Path.SelectMany(ResolveExisting))
        {
            try
            {
                var model = StoredModel.Open(path);
                WriteVerbose($"{path}: {model.Tensors.Count} tensors in {model.Files.Count} file(s).");
                foreach (var handle in StoredHandles.For(model, include)) WriteObject(handle);
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                WriteError(Errors.From(e, path));
            }
        }
    }
}
