using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// A vector that can give its elements' magnitude keys (<see cref="MagnitudeOrder.Key(float)"/> of its float32
/// values) without materialising the values: the selection passes read every element of a trimmed tensor two or
/// three times, and only the keys are needed there.
/// </summary>
public interface IMagnitudeKeySource : ITensorSource
{
    /// <summary>False when this source's keys need its values computed first.</summary>
    bool CanReadMagnitudeKeys { get; }

    /// <summary>The keys of elements [firstElement, firstElement + keys.Length).</summary>
    void ReadMagnitudeKeys(long firstElement, Span<uint> keys, ComputeContext context);
}
