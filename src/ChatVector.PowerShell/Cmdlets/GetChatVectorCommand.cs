using System.Management.Automation;
using ChatVector.Core.Export;
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

    /// <summary>
    /// Leave out weights whose base and chat tensors differ in shape or have a dtype that cannot be
    /// computed with (they stay the model's in Add-ChatVector; the model card lists them). Without it such
    /// a tensor stops the pipeline before anything is written. It belongs here, not on Add-ChatVector:
    /// this is where a weight can lose its vector and the rest of the vector still mean the same; a
    /// vector that does not fit the model in Add-ChatVector means a different architecture (and an
    /// extended vocabulary already has -SkipEmbedding).
    /// </summary>
    [Parameter]
    public SwitchParameter SkipMismatched { get; set; }

    protected override object? FailureTarget => Chat;

    protected override void EndProcessingCore()
    {
        var @base = Open(Base, nameof(Base));
        var chat = Open(Chat, nameof(Chat));
        ChatVectorPairing pairing;
        try
        {
            pairing = ChatVectorPairing.Pair(@base, chat, NameFilter.Create(Name, Exclude), SkipMismatched);
        }
        catch (Exception e) when (!IsEngineSignal(e))
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

    /// <summary>One of the two models; a refusal names it as the target (not always the chat model).</summary>
    private StoredModel Open(string path, string parameterName)
    {
        try { return StoredModel.Open(ResolveSingleExisting(path, parameterName)); }
        catch (Exception e) when (!IsEngineSignal(e))
        {
            ThrowTerminatingError(Errors.From(e, path));
            throw; // unreachable
        }
    }

    private readonly Dictionary<VectorProvenance, Inheritance> _contexts = [];

    private Inheritance VectorContext(VectorProvenance provenance)
    {
        if (!_contexts.TryGetValue(provenance, out var context))
            _contexts[provenance] = context = Inheritance.ForVector(provenance);
        return context;
    }

    private void Report(ChatVectorPairing pairing)
    {
        if (pairing.OnlyInBase.Count > 0)
            WriteWarning($"{pairing.OnlyInBase.Count} tensor(s) only in the base model, skipped: {Sample(pairing.OnlyInBase)}");
        if (pairing.OnlyInChat.Count > 0)
            WriteWarning($"{pairing.OnlyInChat.Count} tensor(s) only in the chat model, skipped: {Sample(pairing.OnlyInChat)}");
        if (pairing.SkippedBuffers.Count > 0)
            WriteVerbose($"Integer/bool buffers skipped (not weights): {Sample(pairing.SkippedBuffers)}");
        ReportMismatched(pairing);
        WriteVerbose($"{pairing.Vectors.Count} vector tensor(s) from {Chat} - {Base}.");
    }

    /// <summary>
    /// A weight without a vector would pass through Add-ChatVector unmerged in a complete-looking model:
    /// terminating (nothing emitted, so nothing downstream writes), whatever $ErrorActionPreference is,
    /// unless -SkipMismatched.
    /// </summary>
    private void ReportMismatched(ChatVectorPairing pairing)
    {
        var mismatched = pairing.Mismatched;
        if (mismatched.Count == 0) return;
        if (SkipMismatched)
        {
            WriteWarning($"{mismatched.Count} tensor(s) have no chat vector (-SkipMismatched; the model card will list them): {Sample(mismatched)}");
            return;
        }
        var id = pairing.ShapeMismatches.Count > 0 ? "ShapeMismatch" : "UncomputableDType";
        ThrowTerminatingError(Errors.Problem(id, ErrorCategory.InvalidData,
            $"No chat vector for {mismatched.Count} tensor(s) of {Chat} - {Base}: {Sample(mismatched)}. Nothing was emitted; " +
            "-SkipMismatched leaves them out (they stay the model's, and the model card lists them).", Chat));
    }

    private static string Sample(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(10)) + (names.Count > 10 ? $", ... ({names.Count - 10} more)" : "");
}
