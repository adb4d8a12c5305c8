using ChatVector.Core.Kernels;
using System.Runtime.InteropServices;
using ChatVector.Core.Format;
using ChatVector.Core.IO;
using ChatVector.Core.Models;
using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>A tensor read from its file on demand: ranged reads straight into libtorch-owned memory.</summary>
public sealed class StoredTensorSource(StoredTensor stored) : IFloat32Source, IPrefetchable
{
    public StoredTensor Stored { get; } = stored;
    public string Name => Stored.Name;
    public DType DType => Stored.Info.DType;
    public long[] Shape => Stored.Info.Shape;
    public long ElementCount => Stored.Info.ElementCount;
    public long ByteLength => Stored.Info.ByteLength;

    /// <summary>Metadata of the file the tensor lies in (provenance of saved vectors lives there).</summary>
    public IReadOnlyDictionary<string, string> FileMetadata => Stored.File.Metadata;

    public torch.Tensor ReadChunk(long firstElement, long count, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, count);
        var scalarType = TorchTypes.ToScalarType(DType, Name);
        var cpu = torch.empty(count, dtype: scalarType);
        try
        {
            // Filling the tensor's own bytes avoids frombuffer, which converts values instead of reinterpreting them.
            Stored.File.ReadTensorBytes(Stored.Info, firstElement * ElementSize, cpu.bytes);
            if (context.Device.type == DeviceType.CPU) return cpu;
            using (cpu) return cpu.to(context.Device);
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
    }

    public IEnumerable<StoredTensorSource> StoredInputs() => [this];

    public void CopyBytes(long byteOffset, Span<byte> destination, ComputeContext context) =>
        Stored.File.ReadTensorBytes(Stored.Info, byteOffset, destination);

    /// <summary>
    /// Lends <paramref name="length"/> of the tensor's bytes from <paramref name="byteOffset"/> when the tensor is held in
    /// memory (<see cref="ResidentTensors"/>): readers compute from them in place instead of copying them first.
    /// </summary>
    public bool TryBorrowBytes(long byteOffset, int length, out ResidentTensors.Loan bytes) =>
        Stored.File.TryBorrowTensorBytes(Stored.Info, byteOffset, length, out bytes);

    private long ElementSize => DType.Bits() / 8;

    /// <summary>Whether the tensor's bytes are held in memory now (<see cref="ResidentTensors"/>; a hint: they may be let go right after).</summary>
    public bool IsHeld => Stored.File.IsHeld(Stored.Info);

    /// <summary>Whether <paramref name="other"/> reads the same tensor of the same file (two sources opened apart).</summary>
    public bool IsSameTensorAs(StoredTensorSource other) => Stored.File.Path == other.Stored.File.Path && Name == other.Name;

    /// <summary>BF16 and F32 are widened by bits here (F16 and the rest go through libtorch).</summary>
    public bool CanReadFloat32 => DType is DType.BF16 or DType.F32 && BitConverter.IsLittleEndian;

    public void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, destination.Length);
        if (!CanReadFloat32) throw new NotSupportedException($"'{Name}' ({DType}) cannot be read as float32 directly");
        var bytes = MemoryMarshal.AsBytes(destination);
        if (DType == DType.F32)
        {
            Stored.File.ReadTensorBytes(Stored.Info, firstElement * 4, bytes);
            return;
        }
        if (TryBorrowBytes(firstElement * 2, bytes.Length / 2, out var held))
        {
            using (held) Float32Conversion.WidenBf16(MemoryMarshal.Cast<byte, ushort>(held.Bytes), destination);
            return;
        }
        // The bf16 bytes land in the second half and are widened in place.
        Stored.File.ReadTensorBytes(Stored.Info, firstElement * 2, bytes[(bytes.Length / 2)..]);
        Float32Conversion.WidenBf16InPlace(destination);
    }

    /// <summary>
    /// The tensor's float32 values minus <paramref name="subtrahend"/> (IEEE float32, the values of
    /// <see cref="ReadFloat32"/> then a subtraction): for BF16 widened and subtracted in one walk, not two.
    /// </summary>
    public void ReadFloat32Minus(long firstElement, ReadOnlySpan<float> subtrahend, Span<float> destination, ComputeContext context)
    {
        if (DType != DType.BF16 || !BitConverter.IsLittleEndian)
        {
            ReadFloat32(firstElement, destination, context);
            Float32Conversion.Subtract(destination, subtrahend);
            return;
        }
        ChunkRange.Check(this, firstElement, destination.Length);
        var bytes = MemoryMarshal.AsBytes(destination);
        if (TryBorrowBytes(firstElement * 2, bytes.Length / 2, out var held))
        {
            using (held) Float32Conversion.WidenBf16Minus(MemoryMarshal.Cast<byte, ushort>(held.Bytes), subtrahend, destination);
            return;
        }
        Stored.File.ReadTensorBytes(Stored.Info, firstElement * 2, bytes[(bytes.Length / 2)..]);
        Float32Conversion.WidenBf16MinusInPlace(subtrahend, destination);
    }
}
