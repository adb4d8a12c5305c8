using System.Management.Automation;
using ChatVector.Core.Statistics;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Shows a tensor's first values and basic statistics, reading only that tensor, a chunk at a time.</para>
/// </summary>
[Cmdlet(VerbsCommon.Show, "SafeTensor")]
[OutputType(typeof(TensorPreview))]
public sealed class ShowSafeTensorCommand : ChatVectorCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public TensorHandle[] InputObject { get; set; } = [];

    /// <summary>How many leading values to show.</summary>
    [Parameter]
    [ValidateRange(0, 10000)]
    public int Count { get; set; } = 8;

    [Parameter]
    [ArgumentCompleter(typeof(DeviceCompleter))]
    public string? Device { get; set; }

    protected override void ProcessRecordCore()
    {
        var context = CreateComputeContext(Device);
        foreach (var handle in InputObject)
        {
            try
            {
                var first = TensorMeasurer.FirstValues(handle.Source, Count, context);
                WriteObject(new TensorPreview(handle, first, TensorMeasurer.Measure(handle.Source, context)));
            }
            catch (Exception e) when (!IsEngineSignal(e) && e is not OperationCanceledException)
            {
                WriteError(Errors.From(e, handle.Name));
            }
        }
    }
}
