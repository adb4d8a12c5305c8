using System.Runtime.InteropServices;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>
/// Element views of a CPU tensor's own memory, so a loop over a chunk can read and write its values in
/// place: no copy into a managed array and no second tensor (the hot paths' per-chunk allocations).
/// </summary>
public static class TensorSpans
{
    /// <summary>The float32 elements of <paramref name="tensor"/>, which must be a contiguous float32 CPU tensor.</summary>
    public static Span<float> Floats(torch.Tensor tensor)
    {
        Require(tensor, torch.ScalarType.Float32);
        return MemoryMarshal.Cast<byte, float>(tensor.bytes);
    }

    /// <summary>The float64 elements of <paramref name="tensor"/>, which must be a contiguous float64 CPU tensor.</summary>
    public static Span<double> Doubles(torch.Tensor tensor)
    {
        Require(tensor, torch.ScalarType.Float64);
        return MemoryMarshal.Cast<byte, double>(tensor.bytes);
    }

    private static void Require(torch.Tensor tensor, torch.ScalarType type)
    {
        if (tensor.dtype != type || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException($"a contiguous {type} CPU tensor is needed; this one is {tensor.dtype} on {tensor.device_type}", nameof(tensor));
    }
}
