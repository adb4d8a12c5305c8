using ChatVector.Core.Format;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>Maps safetensors dtypes to libtorch scalar types (libtorch here lacks the 8/6/4-bit floats and unsigned 16-64).</summary>
public static class TorchTypes
{
    public static torch.ScalarType? TryToScalarType(DType dtype) => dtype switch
    {
        DType.BOOL => torch.ScalarType.Bool,
        DType.U8 => torch.ScalarType.Byte,
        DType.I8 => torch.ScalarType.Int8,
        DType.I16 => torch.ScalarType.Int16,
        DType.I32 => torch.ScalarType.Int32,
        DType.I64 => torch.ScalarType.Int64,
        DType.F16 => torch.ScalarType.Float16,
        DType.BF16 => torch.ScalarType.BFloat16,
        DType.F32 => torch.ScalarType.Float32,
        DType.F64 => torch.ScalarType.Float64,
        _ => null,
    };

    public static torch.ScalarType ToScalarType(DType dtype, string tensorName) =>
        TryToScalarType(dtype) ?? throw new NotSupportedException(
            $"Tensor '{tensorName}' has dtype {dtype}, which libtorch cannot compute with; only F16, BF16, F32, F64 (and integer types for copying) are supported.");

    /// <summary>The type arithmetic runs in: float64 for F64 inputs, float32 otherwise (one rounding at the end).</summary>
    public static DType AccumulatorFor(IEnumerable<DType> inputs) =>
        inputs.Any(d => d == DType.F64) ? DType.F64 : DType.F32;

    /// <summary>
    /// Copies a CPU tensor's bytes (in its own dtype) into <paramref name="destination"/>. A tensor on another
    /// device is brought to the CPU first.
    /// </summary>
    public static void CopyOut(torch.Tensor tensor, Span<byte> destination)
    {
        using var cpu = tensor.device_type == DeviceType.CPU ? null : tensor.cpu();
        var contiguous = (cpu ?? tensor).contiguous();
        try
        {
            var bytes = contiguous.bytes;
            if (bytes.Length != destination.Length)
                throw new InvalidOperationException($"chunk holds {bytes.Length} bytes, {destination.Length} expected");
            bytes.CopyTo(destination);
        }
        finally
        {
            if (!ReferenceEquals(contiguous, cpu ?? tensor)) contiguous.Dispose();
        }
    }
}
