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
    // Per model (in arrival order; a vector's chat model and base), then per layer: several vectors on one pipeline
    // are summed apart, not together.
    private readonly Dictionary<(string Model, string? Base), ModelSums> _models = [];

    /// <summary>One model's sums: per layer, in total, and how many tensors went in.</summary>
    private sealed class ModelSums
    {
        public Dictionary<string, TensorStatistics> Layers { get; } = new(StringComparer.Ordinal);
        public TensorStatistics Total { get; } = new();
        public int Count { get; set; }
    }
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
                string? baseModel = handle.Inheritance.Provenance?.BaseModel;
                if (Summary) Accumulate((handle.Model ?? "", baseModel), LayerGroups.Of(handle.Name), statistics);
                else WriteObject(new TensorMeasurement("Tensor", handle.Name, handle.DType.ToString(), statistics, handle.Model, baseModel));
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
        foreach (var ((model, @base), sums) in _models)
        {
            string? name = model.Length == 0 ? null : model;
            foreach (var (layer, statistics) in sums.Layers) WriteObject(new TensorMeasurement("Layer", layer, null, statistics, name, @base));
            WriteObject(new TensorMeasurement("Total", $"{sums.Count} tensors", null, sums.Total, name, @base));
        }
    }

    private void Accumulate((string Model, string? Base) origin, string layer, TensorStatistics statistics)
    {
        if (!_models.TryGetValue(origin, out var sums)) _models[origin] = sums = new ModelSums();
        if (!sums.Layers.TryGetValue(layer, out var sum)) sums.Layers[layer] = sum = new TensorStatistics();
        sum.Add(statistics);
        sums.Total.Add(statistics);
        sums.Count++;
    }
}
