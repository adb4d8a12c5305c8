using System.Management.Automation;
using System.Text.RegularExpressions;
using ChatVector.Core.Merge;
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
public sealed partial class MeasureChatVectorCommand : ChatVectorCmdlet
{
    private readonly Dictionary<string, TensorStatistics> _layers = new(StringComparer.Ordinal);
    private readonly TensorStatistics _total = new();
    private readonly Dictionary<string, ModelFolder?> _bases = [];
    private ModelFolder? _reference;
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

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _context = CreateComputeContext(Device);
        if (Reference is null) return;
        try { _reference = ModelFolder.Open(ResolveSingleExisting(Reference, nameof(Reference))); }
        catch (Exception e) when (e is not PipelineStoppedException) { ThrowTerminatingError(Errors.From(e, Reference)); }
    }

    protected override void ProcessRecord()
    {
        foreach (var handle in InputObject)
        {
            try
            {
                var reference = ReferenceFor(handle);
                var statistics = TensorMeasurer.Measure(handle.Source, _context!, reference, BaseOf(handle));
                _measured++;
                ReportProgress(2, "Measure-ChatVector", $"{_measured} tensors measured, last {handle.Name}", double.NaN); // the total is still arriving
                if (Summary)
                {
                    Accumulate(LayerOf(handle.Name), statistics);
                    _total.Add(statistics);
                }
                else WriteObject(new TensorMeasurement("Tensor", handle.Name, handle.DType, statistics));
            }
            catch (Exception e) when (e is not PipelineStoppedException and not OperationCanceledException)
            {
                WriteError(Errors.From(e, handle.Name));
            }
        }
    }

    protected override void EndProcessing()
    {
        ReportProgress(2, "Measure-ChatVector", "done", 1, final: true);
        if (!Summary) return;
        foreach (var (layer, statistics) in _layers) WriteObject(new TensorMeasurement("Layer", layer, null, statistics));
        WriteObject(new TensorMeasurement("Total", $"{_measured} tensors", null, _total));
    }

    private ITensorSource? ReferenceFor(TensorHandle handle)
    {
        if (_reference is null) return null;
        var stored = _reference.Find(handle.Name);
        if (stored is null || !stored.Info.Shape.SequenceEqual(handle.Shape))
        {
            WriteWarning($"'{handle.Name}': {_reference.Path} has no tensor of that name and shape; no cosine for it.");
            return null;
        }
        return new StoredTensorSource(stored);
    }

    /// <summary>The base tensor a vector came from: live vectors hold it; saved ones name their base model.</summary>
    private ITensorSource? BaseOf(TensorHandle handle)
    {
        if (handle.Source is ChatVectorTensor live) return live.Base;
        var baseModel = handle.Context.Provenance?.BaseModel;
        if (string.IsNullOrEmpty(baseModel)) return null;
        if (!_bases.TryGetValue(baseModel, out var model))
        {
            try { model = ModelFolder.Open(baseModel); }
            catch (Exception e) when (e is Core.Format.SafeTensorException or IOException)
            {
                WriteVerbose($"Base model {baseModel} of the saved vector cannot be opened ({e.Message}); no relative norms.");
            }
            _bases[baseModel] = model;
        }
        return model?.Find(handle.Name) is { } stored ? new StoredTensorSource(stored) : null;
    }

    private void Accumulate(string layer, TensorStatistics statistics)
    {
        if (!_layers.TryGetValue(layer, out var sum)) _layers[layer] = sum = new TensorStatistics();
        sum.Add(statistics);
    }

    [GeneratedRegex(@"(?:^|\.)(?:layers|h|blocks)\.(\d+)\.")]
    private static partial Regex LayerNumber();

    private static string LayerOf(string name) =>
        LayerNumber().Match(name) is { Success: true } m ? $"layer {m.Groups[1].Value}" : "(outside layers)";
}
