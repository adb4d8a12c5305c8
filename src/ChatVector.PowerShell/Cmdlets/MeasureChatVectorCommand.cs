using System.Management.Automation;
using ChatVector.Core.Models;
using ChatVector.Core.Statistics;
using ChatVector.Core.Tensors;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Measures tensors from the pipeline (vectors, models, merges): norms, moments, extremes, NaN/Inf, cosine to a reference.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "ChatVector")]
[OutputType(typeof(TensorMeasurement))]
public sealed class MeasureChatVectorCommand : ChatVectorCmdlet
{
    private readonly Dictionary<string, TensorStatistics> _layers = new(StringComparer.Ordinal);
    private readonly TensorStatistics _total = new();
    private MeasurementPairs _pairs = new(null);
    private ComputeContext? _context;
    private int _measured;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public TensorHandle[] InputObject { get; set; } = [];

    /// <summary>Per layer and overall instead of per tensor.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    /// <summary>A saved vector or model: adds the cosine similarity with its tensor of the same name.</summary>
    [Parameter]
    public string? Reference { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(DeviceCompleter))]
    public string? Device { get; set; }

    protected override void BeginProcessingCore()
    {
        _context = CreateComputeContext(Device);
        if (Reference is null) return;
        try { _pairs = new MeasurementPairs(StoredModel.Open(ResolveSingleExisting(Reference, nameof(Reference)))); }
        catch (Exception e) when (!IsEngineSignal(e)) { ThrowTerminatingError(Errors.From(e, Reference)); }
    }

    protected override void ProcessRecordCore()
    {
        foreach (var handle in InputObject)
        {
            try
            {
                var reference = _pairs.ReferenceFor(handle.Source);
                if (reference.Reason is not null) WriteWarning(reference.Reason);
                var @base = _pairs.BaseFor(handle.Source, handle.Inheritance.Provenance);
                if (@base.Reason is not null) WriteVerbose(@base.Reason);
                var statistics = TensorMeasurer.Measure(handle.Source, _context!, reference.Source, @base.Source);
                _measured++;
                ReportProgress(2, "Measure-ChatVector", $"{_measured} tensors measured, last {handle.Name}", double.NaN); // the total is still arriving
                if (Summary)
                {
                    Accumulate(LayerGroups.Of(handle.Name), statistics);
                    _total.Add(statistics);
                }
                else WriteObject(new TensorMeasurement("Tensor", handle.Name, handle.DType.ToString(), statistics));
            }
            catch (Exception e) when (!IsEngineSignal(e) && e is not OperationCanceledException)
            {
                WriteError(Errors.From(e, handle.Name));
            }
        }
    }

    protected override void EndProcessingCore()
    {
        ReportProgress(2, "Measure-ChatVector", "done", 1, final: true);
        if (!Summary) return;
        foreach (var (layer, statistics) in _layers) WriteObject(new TensorMeasurement("Layer", layer, null, statistics));
        WriteObject(new TensorMeasurement("Total", $"{_measured} tensors", null, _total));
    }

    private void Accumulate(string layer, TensorStatistics statistics)
    {
        if (!_layers.TryGetValue(layer, out var sum)) _layers[layer] = sum = new TensorStatistics();
        sum.Add(statistics);
    }
}
