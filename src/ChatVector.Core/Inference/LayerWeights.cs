using TorchSharp;

namespace ChatVector.Core.Inference;

/// <summary>One decoder layer's weights, in the compute dtype on the compute device; disposing frees them.</summary>
public sealed class LayerWeights : IDisposable
{
    public required torch.Tensor InputNorm { get; init; }
    public required torch.Tensor PostAttentionNorm { get; init; }
    public required torch.Tensor Q { get; init; }
    public required torch.Tensor K { get; init; }
    public required torch.Tensor V { get; init; }
    public required torch.Tensor O { get; init; }
    /// <summary>Projection biases (Qwen2 has them on q, k and v; LLaMA's attention_bias adds o).</summary>
    public torch.Tensor? QBias { get; init; }
    public torch.Tensor? KBias { get; init; }
    public torch.Tensor? VBias { get; init; }
    public torch.Tensor? OBias { get; init; }
    public required torch.Tensor Gate { get; init; }
    public required torch.Tensor Up { get; init; }
    public required torch.Tensor Down { get; init; }

    public void Dispose()
    {
        foreach (var t in new[] { InputNorm, PostAttentionNorm, Q, K, V, O, QBias, KBias, VBias, OBias, Gate, Up, Down })
            t?.Dispose();
    }
}
