using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.PowerShell.Handles;

/// <summary>Handles for the tensors of an opened model, each carrying its file's metadata and the folder's side files.</summary>
internal static class StoredHandles
{
    public static IEnumerable<TensorHandle> For(ModelFolder model, Func<string, bool> include)
    {
        var sideFiles = model.IsFolder ? new SideFiles(model) : null;
        var contexts = new Dictionary<SafeTensorFile, ExportContext>();
        foreach (var stored in model.Tensors.Where(t => include(t.Name)))
        {
            if (!contexts.TryGetValue(stored.File, out var context))
            {
                var metadata = stored.File.Metadata.Where(kv => kv.Key != "format").ToDictionary(kv => kv.Key, kv => kv.Value);
                contexts[stored.File] = context = new ExportContext(metadata, sideFiles, VectorProvenance.FromMetadata(stored.File.Metadata));
            }
            var kind = context.Provenance is null ? TensorKind.Stored : TensorKind.ChatVector;
            yield return new TensorHandle(new StoredTensorSource(stored), kind, context, stored.File.Path, model.Path);
        }
    }
}
