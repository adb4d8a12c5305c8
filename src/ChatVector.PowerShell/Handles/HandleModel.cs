using ChatVector.Core.Export;
using ChatVector.Core.Inference;
using ChatVector.Core.Merge;
using ChatVector.Core.Tensors;

namespace ChatVector.PowerShell.Handles;

/// <summary>
/// Consecutive handles from one producer (one Get-SafeTensor model, one Add-ChatVector merge), gathered
/// into a model for inference: their tensors as the weights (computed on demand, never written), the side
/// files (config, tokenizer) of the model they came from or were merged into. Handles belong together when
/// they share their producer's side files.
/// </summary>
internal sealed class HandleModel
{
    private readonly List<TensorHandle> _handles = [];

    private HandleModel(OutputSideFiles? sideFiles) => SideFiles = sideFiles;

    public OutputSideFiles? SideFiles { get; }
    public int Count => _handles.Count;

    /// <summary>The model the handles came from (for a merge: the model merged into).</summary>
    public string Name => SideFiles?.CopyFrom?.Path ?? _handles.FirstOrDefault()?.Model ?? "(pipeline)";

    /// <summary>The merge's ratio when every vector term has the same one; null for a plain model.</summary>
    public double? Ratio
    {
        get
        {
            var ratios = _handles.Select(h => h.Source).OfType<MergedTensor>().SelectMany(m => m.Terms).Select(t => t.Ratio).Distinct().ToList();
            return ratios.Count == 1 ? ratios[0] : null;
        }
    }

    public static HandleModel Start(TensorHandle first)
    {
        var group = new HandleModel(first.Inheritance.SideFiles);
        group._handles.Add(first);
        return group;
    }

    /// <summary>Adds the handle when it belongs to this model; false when it starts another.</summary>
    public bool TryAdd(TensorHandle handle)
    {
        if (!ReferenceEquals(handle.Inheritance.SideFiles, SideFiles)) return false;
        _handles.Add(handle);
        return true;
    }

    public LanguageModel Open(ComputeContext context)
    {
        _ = SideFiles?.CopyFrom ?? throw new InferenceException(InferenceProblem.InvalidConfig,
            $"The {Count} handle(s) starting with '{_handles[0].Name}' do not come from a model folder (chat vectors alone are not a model): " +
            "pipe the output of Add-ChatVector, or of Get-SafeTensor on a model folder.");
        // With the side files the export would write (a config merge's layer count, vocabulary and tokenizer), not the
        // source's: written into a folder of their own, deleted with the model.
        string folder = Path.Combine(Path.GetTempPath(), $"chatvector-sidefiles-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            SideFiles!.WriteInto(folder);
            // Named as the piped handles in the model's own messages: a tensor missing from them is missing from the
            // pipeline, not from the folder whose side files they carry.
            string described = $"{Name} (the {Count} tensor handle(s) piped in)";
            return LanguageModel.FromTensors(described, folder, ownsFolder: true, _handles.Select(h => h.Source), context);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }
}
