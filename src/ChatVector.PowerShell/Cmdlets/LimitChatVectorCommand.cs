using ChatVector.Core.Kernels;
using System.Management.Automation;
using ChatVector.Core.Export;
using ChatVector.Core.Sparsify;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Sparsifies chat vectors (TIES trim, DARE, Breadcrumbs, DELLA): lazy vector handles out, one per vector handle in.</para>
/// </summary>
[Cmdlet(VerbsData.Limit, "ChatVector", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(TensorHandle))]
public sealed class LimitChatVectorCommand : ChatVectorCmdlet
{
    private const string DefaultSet = "Default", RescaleSet = "Rescale", NoRescaleSet = "NoRescale";
    private readonly List<TensorHandle> _vectors = [];
    private readonly List<ErrorRecord> _problems = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public TensorHandle[] InputObject { get; set; } = [];

    /// <summary>The fraction of each tensor to keep, 0 to 1; a handle's own Density property overrides it.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0.0, 1.0)]
    public double? Density { get; set; }

    [Parameter]
    [ValidateSet(nameof(SparsifyMethod.Magnitude), nameof(SparsifyMethod.Random), nameof(SparsifyMethod.Breadcrumbs), nameof(SparsifyMethod.Della))]
    public string Method { get; set; } = nameof(SparsifyMethod.Magnitude);

    /// <summary>Breadcrumbs: the fraction of largest magnitudes dropped.</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double Gamma { get; set; } = SparsifyOptions.DefaultGamma;

    /// <summary>Della: the spread of keep probabilities around the density.</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double Epsilon { get; set; } = SparsifyOptions.DefaultEpsilon;

    /// <summary>Seed of the random rules; drawn and recorded when not given.</summary>
    [Parameter]
    public long? Seed { get; set; }

    [Parameter(ParameterSetName = RescaleSet)]
    public SwitchParameter Rescale { get; set; }

    [Parameter(ParameterSetName = NoRescaleSet)]
    public SwitchParameter NoRescale { get; set; }

    /// <summary>
    /// How a rescaled vector's kept elements are scaled: L1 (the default, mergekit's: by ‖v‖₁ / ‖kept‖₁, so the kept
    /// values keep the vector's L1 norm) or Density (divided by the keep probability: DARE's paper and PEFT; for DELLA,
    /// each element's own probability).
    /// </summary>
    [Parameter]
    [ValidateSet(nameof(Core.Sparsify.RescaleNorm.L1), nameof(Core.Sparsify.RescaleNorm.Density))]
    public string RescaleNorm { get; set; } = nameof(Core.Sparsify.RescaleNorm.L1);

    protected override void ProcessRecordCore()
    {
        foreach (var handle in InputObject)
        {
            if (handle.Kind != TensorKind.ChatVector || handle.Inheritance.Provenance is null)
                _problems.Add(Errors.Problem("NotAVector", ErrorCategory.InvalidArgument,
                    $"'{handle.Name}' ({handle.Kind}) is not a chat vector; Limit-ChatVector takes Get-ChatVector's output or a saved vector (Get-SafeTensor).", handle));
            else if ((handle.Density ?? Density) is null)
                _problems.Add(Errors.Problem("DensityMissing", ErrorCategory.InvalidArgument,
                    $"'{handle.Name}' has no Density: give -Density, or set the handle's Density property.", handle));
            else
                _vectors.Add(handle);
        }
    }

    protected override void EndProcessingCore()
    {
        ReportRepeatedNames();
        if (_problems.Count > 0)
        {
            foreach (var problem in _problems) WriteError(problem);
            ThrowTerminatingError(Errors.Problem("LimitNotPossible", ErrorCategory.InvalidArgument,
                $"{_problems.Count} input(s) cannot be sparsified (see the errors above); nothing was emitted.", null));
        }
        var method = Enum.Parse<SparsifyMethod>(Method, ignoreCase: true);
        var seed = Seed ?? (SparsifyOptions.Draws(method) ? CounterRandom.NewSeed() : 0); // a magnitude trim draws nothing: no seed to record
        bool rescale = Rescale.IsPresent || (!NoRescale.IsPresent && SparsifyOptions.RescalesByDefault(method));
        var norm = Enum.Parse<Core.Sparsify.RescaleNorm>(RescaleNorm, ignoreCase: true);
        WriteVerbose($"{method}{(SparsifyOptions.Draws(method) ? $", seed {seed}" : "")}, {(rescale ? $"rescaled ({norm})" : "no rescale")}, {_vectors.Count} tensor(s).");

        var limited = new List<(TensorHandle Handle, SparsifiedTensor Source)>(_vectors.Count);
        // Each input vector draws its own stream, in arrival order, as mergekit draws a mask per model; the same order as a
        // config's models gives the config's bytes. A vector is its (base, chat model): the shards of one saved vector,
        // each read with an inheritance of its own, are one vector, and one model piped twice stays one (and is refused
        // downstream as arriving twice).
        var streams = new Dictionary<(string?, string?), int>();
        foreach (var handle in _vectors)
        {
            var identity = (handle.Inheritance.Provenance?.BaseModel, handle.Inheritance.Provenance?.ChatModel);
            if (!streams.TryGetValue(identity, out int stream)) streams[identity] = stream = streams.Count;
            // One at a time, so a refusal (a dtype that cannot be sparsified) names the handle it is about.
            try { limited.Add((handle, new SparsifiedTensor(handle.Source, new SparsifyOptions(method, (handle.Density ?? Density)!.Value, Gamma, Epsilon, seed, rescale, norm, stream)))); }
            catch (Exception e) when (!IsEngineSignal(e))
            {
                ThrowTerminatingError(Errors.From(e, handle));
                return;
            }
        }
        // One inheritance per input vector: its provenance plus how it was sparsified, which the export saves.
        var inheritances = limited.GroupBy(l => l.Handle.Inheritance).ToDictionary(g => g.Key, g =>
            Inheritance.ForVector(g.Key.Provenance! with
            {
                Sparsification = SparsifyProvenance.ToMetadata(g.Select(l => (l.Source.Name, l.Source.Options)).ToList()),
            }));
        foreach (var (handle, source) in limited)
            WriteObject(new TensorHandle(source, TensorKind.ChatVector, inheritances[handle.Inheritance], model: handle.Model) { Ratio = handle.Ratio });
    }

    /// <summary>
    /// A tensor of one vector arriving twice (the same Get-ChatVector output piped twice): its sparsification
    /// is recorded by name in that vector's provenance, and one export could not hold both copies anyway.
    /// </summary>
    private void ReportRepeatedNames()
    {
        foreach (var repeated in _vectors.GroupBy(h => (h.Inheritance, h.Name)).Where(g => g.Count() > 1))
            _problems.Add(Errors.Problem("DuplicateTensorName", ErrorCategory.InvalidArgument,
                $"'{repeated.Key.Name}' of {repeated.First().Model} arrived {repeated.Count()} times; each tensor of a vector can be sparsified once. " +
                "Pipe each Get-ChatVector output once (or select with its -Name/-Exclude).", repeated.First()));
    }
}
