using ChatVector.Core.Kernels;
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
        // Converted explicitly: an in-place op with a bf16 operand widens it inside the kernel, which is
        // slower and holds far more memory at the peak.
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

    /// <summary>
    /// The raw bf16 bits of chat and base over elements [first, first + count): lent by a held copy
    /// (<see cref="IO.ResidentTensors"/>) where there is one, else read into scratch arrays; all given back on dispose.
    /// </summary>
    private Bf16Bits ReadBf16Bits(long firstElement, int count, ComputeContext context)
    {
        var chat = Bf16Side.Read((StoredTensorSource)Chat, firstElement, count);
        try
        {
            return new Bf16Bits(chat, Bf16Side.Read((StoredTensorSource)Base, firstElement, count));
        }
        catch
        {
            chat.Dispose();
            throw;
        }
    }

    private readonly ref struct Bf16Bits(Bf16Side chat, Bf16Side @base)
    {
        private readonly Bf16Side _chat = chat, _base = @base;
        public ReadOnlySpan<ushort> Chat => _chat.Bits;
        public ReadOnlySpan<ushort> Base => _base.Bits;

        public void Dispose()
        {
            _chat.Dispose();
            _base.Dispose();
        }
    }

    /// <summary>One side's bits: a loan of held bytes, or a scratch array filled from the file.</summary>
    private readonly ref struct Bf16Side
    {
        private readonly IO.ResidentTensors.Loan _loan;
        private readonly ushort[]? _scratch;

        private Bf16Side(IO.ResidentTensors.Loan loan, ushort[]? scratch, ReadOnlySpan<ushort> bits)
        {
            _loan = loan;
            _scratch = scratch;
            Bits = bits;
        }

        public ReadOnlySpan<ushort> Bits { get; }

        public static Bf16Side Read(StoredTensorSource source, long firstElement, int count)
        {
            if (source.TryBorrowBytes(firstElement * 2, count * 2, out var loan))
                return new Bf16Side(loan, null, MemoryMarshal.Cast<byte, ushort>(loan.Bytes));
            var scratch = ScratchArrays<ushort>.Rent(count);
            try
            {
                source.Stored.File.ReadTensorBytes(source.Stored.Info, firstElement * 2, MemoryMarshal.AsBytes(scratch.AsSpan(0, count)));
                return new Bf16Side(default, scratch, scratch.AsSpan(0, count));
            }
            catch
            {
                ScratchArrays<ushort>.Return(scratch);
                throw;
            }
        }

        public void Dispose()
        {
            _loan.Dispose();
            if (_scratch is not null) ScratchArrays<ushort>.Return(_scratch);
        }
    }
}
