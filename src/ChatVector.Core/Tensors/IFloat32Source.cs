namespace ChatVector.Core.Tensors;

/// <summary>
/// A source that can write a range of its values as float32 straight into memory the caller holds, with no
/// tensor in between: the hot paths use it to skip libtorch's per-chunk temporaries (an empty tensor, a
/// converted copy, a result) where the values are exactly what <see cref="ITensorSource.ReadChunk"/> would
/// give converted to float32.
/// </summary>
public interface IFloat32Source : ITensorSource
{
    /// <summary>False when this source's values need libtorch (dtypes or inputs the direct path does not cover).</summary>
    bool CanReadFloat32 { get; }

    /// <summary>Elements [firstElement, firstElement + destination.Length) as float32.</summary>
    void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context);
}

/// <summary>Reads any source's chunk as float32, directly when it can, else through libtorch.</summary>
public static class Float32Reads
{
    public static bool Direct(ITensorSource source) => source is IFloat32Source { CanReadFloat32: true };

    /// <summary>A contiguous float32 CPU tensor of elements [first, first + count), owned by the caller.</summary>
    public static TorchSharp.torch.Tensor Chunk(ITensorSource source, long first, long count, ComputeContext context)
    {
        if (source is IFloat32Source { CanReadFloat32: true } direct && count <= Array.MaxLength)
        {
            var tensor = TorchSharp.torch.empty(count, TorchSharp.torch.ScalarType.Float32);
            try
            {
                direct.ReadFloat32(first, TensorSpans.Floats(tensor), context);
                return tensor;
            }
            catch
            {
                tensor.Dispose();
                throw;
            }
        }
        var chunk = source.ReadChunk(first, count, context);
        var typed = chunk.to(TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU);
        if (!ReferenceEquals(typed, chunk)) chunk.Dispose();
        var contiguous = typed.contiguous();
        if (!ReferenceEquals(contiguous, typed)) typed.Dispose();
        return contiguous;
    }
}
