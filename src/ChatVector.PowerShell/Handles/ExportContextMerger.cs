using ChatVector.Core.Export;

namespace ChatVector.PowerShell.Handles;

/// <summary>
/// Combines what the handles arriving at Export-SafeTensor know: every producer's metadata (first value
/// wins), and side files only when every handle agrees on them (a model folder gets its source's config
/// and tokenizer only when all its tensors came from the same place).
/// </summary>
internal static class ExportContextMerger
{
    public static (Dictionary<string, string> Metadata, SideFiles? SideFiles) Merge(IReadOnlyList<TensorHandle> handles, IDictionary<string, string> userMetadata)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var context in handles.Select(h => h.Context).Distinct())
            foreach (var (key, value) in context.Metadata)
                metadata.TryAdd(key, value);
        foreach (var (key, value) in userMetadata) metadata[key] = value; // the user's word is final
        var sideFiles = handles.Select(h => h.Context.SideFiles).Distinct().ToList();
        return (metadata, sideFiles is [{ } only] ? only : null);
    }
}
