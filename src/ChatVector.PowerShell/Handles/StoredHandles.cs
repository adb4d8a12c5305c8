using ChatVector.Core.Export;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.PowerShell.Handles;

/// <summary>Handles for the tensors of an opened model, each with its file's context (decided in Core) and a saved vector's ratio.</summary>
internal static class StoredHandles
{
    public static IEnumerable<TensorHandle> For(StoredModel model, Func<string, bool> include)
    {
        var contexts = Inheritance.ForModel(model);
        foreach (var stored in model.Tensors.Where(t => include(t.Name)))
        {
            var context = contexts[stored.File];
            var kind = context.Provenance is null ? TensorKind.Stored : TensorKind.ChatVector;
            yield return new TensorHandle(new StoredTensorSource(stored), kind, context, stored.File.Path, model.Path)
            {
                Ratio = kind == TensorKind.ChatVector ? VectorRatios.Read(stored.File.Metadata, stored.Name) : null,
            };
        }
    }
}
