using ChatVector.Core.Models;

namespace ChatVector.Core.Config;

/// <summary>
/// Where each tensor lies along the model's layers, as mergekit's gradients read it: t = the layer's index / (layers − 1)
/// for a layer's tensors (t = 1 with one layer, as mergekit's <c>plan_slice</c> sets it); the embeddings and the weights before and after the layers take t = 0.
/// </summary>
public sealed class LayerPlaces
{
    private readonly int _layerCount;

    private LayerPlaces(int layerCount) => _layerCount = layerCount;

    public static LayerPlaces Of(IEnumerable<string> tensorNames) =>
        new(tensorNames.Select(HuggingFaceNames.LayerNumber).Where(i => i is not null).Select(i => i!.Value).DefaultIfEmpty(-1).Max() + 1);

    public double PlaceOf(string tensorName) =>
        HuggingFaceNames.LayerNumber(tensorName) is { } layer ? (_layerCount > 1 ? (double)layer / (_layerCount - 1) : 1) : 0;
}
