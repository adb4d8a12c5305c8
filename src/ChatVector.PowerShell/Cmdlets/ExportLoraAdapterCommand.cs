using System.Globalization;
using System.Management.Automation;
using ChatVector.Core.LoraExport;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Writes the vector handles on the pipeline as a PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors).</para>
/// </summary>
[Cmdlet(VerbsData.Export, "LoraAdapter", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = PathSet)]
[OutputType(typeof(DirectoryInfo))]
public sealed class ExportLoraAdapterCommand : ChatVectorCmdlet
{
    private readonly List<TensorHandle> _handles = [];

    /// <summary>The adapter folder to write. Wildcards must match one existing item.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string Path { get; set; } = "";

    /// <summary>The adapter folder taken exactly as written ([ ] * ? are part of the name).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    public string LiteralPath { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public TensorHandle[] InputObject { get; set; } = [];

    /// <summary>The most singular directions kept per weight (PEFT's r).</summary>
    [Parameter]
    public int? Rank { get; set; }

    /// <summary>Keep only singular values at least this large.</summary>
    [Parameter]
    public double? SingularValueThreshold { get; set; }

    /// <summary>Keep the fewest directions whose share of the weight's squared vector norm reaches this fraction (0 to 1).</summary>
    [Parameter]
    public double? KeepEnergy { get; set; }

    /// <summary>Tensor names (wildcards) to put in the adapter; all when not given.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TensorNameCompleter))]
    public string[]? Include { get; set; }

    /// <summary>Tensor names (wildcards) to leave out.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TensorNameCompleter))]
    public string[]? Exclude { get; set; }

    /// <summary>How the input embedding and the LM head go into the adapter: ModulesToSave (default), Lora or Skip.</summary>
    [Parameter]
    [ValidateSet(nameof(Core.LoraExport.EmbeddingMode.ModulesToSave), nameof(Core.LoraExport.EmbeddingMode.Lora), nameof(Core.LoraExport.EmbeddingMode.Skip))]
    public string EmbeddingMode { get; set; } = nameof(Core.LoraExport.EmbeddingMode.ModulesToSave);

    /// <summary>How 1-D weights (norms) go into the adapter: Skip (default) or ModulesToSave.</summary>
    [Parameter]
    [ValidateSet(nameof(Core.LoraExport.NormMode.Skip), nameof(Core.LoraExport.NormMode.ModulesToSave))]
    public string NormMode { get; set; } = nameof(Core.LoraExport.NormMode.Skip);

    /// <summary>The base model the vector was taken against, for tensors saved whole; by default the vector's own.</summary>
    [Parameter]
    public string? Base { get; set; }

    /// <summary>Factor every weight by the exact SVD (optimal, slower) instead of the randomized one.</summary>
    [Parameter]
    public SwitchParameter ExactSvd { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Output the written folder (by default, as Export- cmdlets do, nothing).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override object? FailureTarget => Literal ? LiteralPath : Path;

    protected override void ProcessRecordCore() => _handles.AddRange(InputObject);

    protected override void EndProcessingCore()
    {
        var target = Core.Export.StagedTarget.Normalize(Literal ? ResolveNew(LiteralPath, literal: true, nameof(LiteralPath)) : ResolveNew(Path, literal: false, nameof(Path)));
        if (_handles.Count == 0)
        {
            WriteWarning($"No tensors arrived on the pipeline; {target} was not written.");
            return;
        }
        var baseModel = new Lazy<StoredModel?>(() => OpenBase(), LazyThreadSafetyMode.None);
        LoraExportRequest request;
        IReadOnlyList<LoraPlanItem> plan;
        try
        {
            var provenances = _handles.Select(h => h.Inheritance.Provenance).OfType<VectorProvenance>().Distinct().ToList();
            request = new LoraExportRequest(target, _handles.Select(h => h.Source).ToList(), new LoraRankRule(Rank, SingularValueThreshold, KeepEnergy),
                NameFilter.Create(Include, Exclude),
                Enum.Parse<EmbeddingMode>(EmbeddingMode, ignoreCase: true), Enum.Parse<NormMode>(NormMode, ignoreCase: true), Force, ExactSvd)
            {
                BaseOf = vector => BaseWeights.Of(vector, baseModel.Value),
                VocabularyMismatches = provenances.SelectMany(p => BaseWeights.VocabularyMismatches(p.SkippedTensors, OpenIfThere(p.ChatModel))).ToList(),
                BaseModelPath = Base is null ? RecordedBase() : ResolveSingleExisting(Base, nameof(Base)),
            };
            plan = LoraPlan.Make(request);
        }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, target));
            return;
        }
        if (_handles.Any(h => h.Ratio is { } r && r != 1))
            WriteWarning("The handles' Ratio is not applied: the adapter holds the vector itself (scale it when loading, e.g. PEFT's add_weighted_adapter).");
        foreach (var forced in plan.Where(i => i.Kind == LoraTensorKind.Whole && i.Base is null))
            WriteWarning($"{forced.Name}: {forced.Reason}; saved whole in modules_to_save (resize the base model's embeddings before loading the adapter).");
        var description = Describe(plan);
        if (!ShouldProcess(target, description)) return;
        WriteVerbose(description);
        var context = CreateComputeContext(null);
        LoraExportOutcome? outcome = null;
        try
        {
            outcome = LoraExporter.Export(request, plan, context, p => ReportProgress(1, $"Export-LoraAdapter {target}",
                $"{p.Done}/{p.Total} tensors: {p.Current}", p.Total == 0 ? 1 : (double)p.Done / p.Total));
        }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, target, writing: true));
        }
        finally
        {
            ReportProgress(1, $"Export-LoraAdapter {target}", "done", 1, final: true);
        }
        foreach (var tensor in outcome!.Tensors) WriteVerbose(Describe(tensor));
        foreach (var warning in outcome.Warnings) WriteWarning(warning);
        if (PassThru) WriteObject(new DirectoryInfo(target));
    }

    /// <summary>-Base, or the one base model the vectors recorded (where it still is): opened only if a tensor is saved whole.</summary>
    private StoredModel? OpenBase() => Base is not null ? StoredModel.Open(ResolveSingleExisting(Base, nameof(Base))) : OpenIfThere(RecordedBase());

    private string? RecordedBase()
    {
        var recorded = _handles.Select(h => h.Inheritance.Provenance?.BaseModel).Where(p => !string.IsNullOrEmpty(p)).Distinct().ToList();
        return recorded.Count == 1 ? recorded[0] : null;
    }

    private static StoredModel? OpenIfThere(string? path) =>
        !string.IsNullOrEmpty(path) && (File.Exists(path) || Directory.Exists(path)) ? StoredModel.Open(path) : null;

    private string Describe(IReadOnlyList<LoraPlanItem> plan)
    {
        int factored = plan.Count(i => i.Kind is LoraTensorKind.Lora or LoraTensorKind.LoraEmbedding);
        int whole = plan.Count(i => i.Kind == LoraTensorKind.Whole), skipped = plan.Count(i => i.Kind == LoraTensorKind.Skipped);
        var rule = string.Join(", ", new[]
        {
            Rank is { } r ? $"rank at most {r}" : null,
            SingularValueThreshold is { } t ? $"singular values >= {t.ToString(CultureInfo.InvariantCulture)}" : null,
            KeepEnergy is { } e ? $"kept energy >= {e.ToString(CultureInfo.InvariantCulture)}" : null,
        }.OfType<string>());
        return $"Write a LoRA adapter ({rule}): {factored} weights factored, {whole} saved whole, {skipped} skipped; " +
            $"largest weight held {Core.Format.ByteSize.Format(LoraPlan.LargestFactoredBytes(plan))} in float32";
    }

    private static string Describe(LoraTensorReport tensor) => tensor.Kind switch
    {
        LoraTensorKind.Whole => $"{tensor.Name}: saved whole (modules_to_save){(tensor.Reason is null ? "" : $": {tensor.Reason}")}",
        LoraTensorKind.Skipped => $"{tensor.Name}: skipped: {tensor.Reason}",
        _ => $"{tensor.Name}: rank {tensor.Rank}, kept energy {tensor.KeptEnergy.ToString("P2", CultureInfo.InvariantCulture)}",
    };
}
