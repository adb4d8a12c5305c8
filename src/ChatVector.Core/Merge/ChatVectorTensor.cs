using System.Runtime.InteropServices;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Merge;

/// <summary>One tensor of a chat vector, <c>chat - base</c>, computed in float32 (float64 for F64 inputs), never rounded further.</summary>
public sealed class ChatVectorTensor : ComputedTensorSource, IFloat32Source, IMagnitudeKeySource, IPrefetchable
{
    public ChatVectorTensor(ITensorSource chat, ITensorSource @base, VectorProvenance provenance)
        : base(chat.Name, TorchTypes.AccumulatorFor([chat.DType, @base.DType]), chat.Shape)
    {
        Chat = chat;
        Base = @base;
        Provenance = provenance;
    }

    public ITensorSource Chat { get; }
    public ITensorSource Base { get; }
    public VectorProvenance Provenance { get; }

    public IEnumerable<StoredTensorSource> StoredInputs() => Prefetching.StoredInputs([Chat, Base]);

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        var accumulator = TorchTypes.ToScalarType(DType, Name);
        var chat = Chat.ReadChunk(firstElement, count, context).to(accumulator);
        // Converted explicitly: an in-place op with a bf16 operand (widened inside the kernel) measured
        // slower and with far higher peak RSS in the benchmark.
        var @base = Base.ReadChunk(firstElement, count, context).to(accumulator);
        return chat.sub_(@base);
    }

    /// <summary>Float32 vectors of stored BF16/F32 tensors: chat − base computed in place (IEEE float32, as libtorch's sub_).</summary>
    public bool CanReadFloat32 => DType == Format.DType.F32 && Float32Reads.Direct(Chat) && Float32Reads.Direct(Base);

    public void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, destination.Length);
        context.Cancellation.ThrowIfCancellationRequested();
        if (BothStoredBf16)
        {
            using var bits = ReadBf16Bits(firstElement, destination.Length, context);
            Float32Conversion.SubtractBf16(bits.Chat, bits.Base, destination);
            return;
        }
        ((IFloat32Source)Chat).ReadFloat32(firstElement, destination, context);
        var scratch = ScratchArrays<float>.Rent(destination.Length);
        try
        {
            var @base = scratch.AsSpan(0, destination.Length);
            ((IFloat32Source)Base).ReadFloat32(firstElement, @base, context);
            Float32Conversion.Subtract(destination, @base);
        }
        finally
        {
            ScratchArrays<float>.Return(scratch);
        }
    }

    /// <summary>Both sides stored as BF16: values and keys come straight from their bits, in one pass.</summary>
    private bool BothStoredBf16 => Chat is StoredTensorSource { DType: Format.DType.BF16 } && Base is StoredTensorSource { DType: Format.DType.BF16 }
        && BitConverter.IsLittleEndian;

    /// <summary>The keys come straight from the bits of two stored BF16 tensors (a trim's selection passes).</summary>
    public bool CanReadMagnitudeKeys => BothStoredBf16;

    public void ReadMagnitudeKeys(long firstElement, Span<uint> keys, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, keys.Length);
        if (!CanReadMagnitudeKeys) throw new NotSupportedException($"'{Name}': keys are read straight only from two stored BF16 tensors");
        context.Cancellation.ThrowIfCancellationRequested();
        using var bits = ReadBf16Bits(firstElement, keys.Length, context);
        MagnitudeOrder.KeysOfBf16Difference(bits.Chat, bits.Base, keys);
    }

    /// <summary>The raw bf16 bits of chat and base over elements [first, first + count), in scratch arrays returned on dispose.</summary>
    private Bf16Bits ReadBf16Bits(long firstElement, int count, ComputeContext context)
    {
        var bits = new Bf16Bits(ScratchArrays<ushort>.Rent(count), ScratchArrays<ushort>.Rent(count), count);
        try
        {
            Chat.CopyBytes(firstElement * 2, MemoryMarshal.AsBytes(bits.ChatSpan), context);
            Base.CopyBytes(firstElement * 2, MemoryMarshal.AsBytes(bits.BaseSpan), context);
            return bits;
        }
        catch
        {
            bits.Dispose();
            throw;
        }
    }

    private readonly struct Bf16Bits(ushort[] chat, ushort[] @base, int count) : IDisposable
    {
        public Span<ushort> ChatSpan => chat.AsSpan(0, count);
        public Span<ushort> BaseSpan => @base.AsSpan(0, count);
        public ReadOnlySpan<ushort> Chat => ChatSpan;
        public ReadOnlySpan<ushort> Base => BaseSpan;

        public void Dispose()
        {
            ScratchArrays<ushort>.Return(chat);
            ScratchArrays<ushort>.Return(@base);
        }
    }
}
