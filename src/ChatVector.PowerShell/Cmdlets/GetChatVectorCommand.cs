using System.Management.Automation;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.PowerShell.Handles;
using ChatVector.PowerShell.Infrastructure;

namespace ChatVector.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Emits the chat vector (chat - base) of two models as lazy handles, one per tensor, paired by name.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ChatVector")]
[OutputType(typeof(TensorHandle))]
public sealed class GetChatVectorCommand : ChatVectorCmdlet
{
    /// <summary>The base model (e.g. Llama-3-8B).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Base { get; set; } = "";

    /// <summary>Its chat-tuned sibling (e.g. Llama-3-8B-Instruct).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Chat { get; set; } = "";

    /// <summary>Tensor names to take; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TensorNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Tensor names to leave out; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TensorNameCompleter))]
    public string[]? Exclude { get; set; }

    /// <summary>The ratio these vectors are added with; overrides Add-ChatVector -Ratio for them.</summary>
    [Parameter]
    public double? Ratio { get; set; }

    protected override void EndProcessing()
    {
        VectorPairing pairing;
        try
        {
            var @base = ModelFolder.Open(ResolveSingleExisting(Base, nameof(Base)));
            var chat = ModelFolder.Open(ResolveSingleExisting(Chat, nameof(Chat)));
            pairing = ChatVectorPlanner.Pair(@base, chat, NameFilter.Create(Name, Exclude));
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowTerminatingError(Errors.From(e, Chat));
            return;
        }
        Report(pairing);
        foreach (var vector in pairing.Vectors)
        {
            var context = VectorContext(vector.Provenance);
            WriteObject(new TensorHandle(vector, TensorKind.ChatVector, context, model: vector.Provenance.ChatModel) { Ratio = Ratio });
        }
    }

    private readonly Dictionary<VectorProvenance, ExportContext> _contexts = [];

    private ExportContext VectorContext(VectorProvenance provenance)
    {
        if (!_contexts.TryGetValue(provenance, out var context))
            _contexts[provenance] = context = new ExportContext(provenance.ToMetadata(), null, provenance);
        return context;
    }

    private void Report(VectorPairing pairing)
    {
        if (pairing.OnlyInBase.Count > 0)
            WriteWarning($"{pairing.OnlyInBase.Count} tensor(s) only in the base model, skipped: {Sample(pairing.OnlyInBase)}");
        if (pairing.OnlyInChat.Count > 0)
            WriteWarning($"{pairing.OnlyInChat.Count} tensor(s) only in the chat model, skipped: {Sample(pairing.OnlyInChat)}");
        if (pairing.SkippedBuffers.Count > 0)
            WriteVerbose($"Integer/bool buffers skipped (not weights): {Sample(pairing.SkippedBuffers)}");
        if (pairing.Uncomputable.Count > 0)
            WriteWarning($"Tensors whose dtype cannot be computed with, skipped: {Sample(pairing.Uncomputable)}");
        foreach (var mismatch in pairing.ShapeMismatches)
            WriteError(Errors.Problem("ShapeMismatch", ErrorCategory.InvalidData, $"No chat vector for {mismatch}.", mismatch.Name));
        WriteVerbose($"{pairing.Vectors.Count} vector tensor(s) from {Chat} - {Base}.");
    }

    private static string Sample(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(10)) + (names.Count > 10 ? $", ... ({names.Count - 10} more)" : "");
}
