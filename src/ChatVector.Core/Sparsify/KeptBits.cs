using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// Which elements of a float32 vector tensor a rule kept, one bit each, recorded during the pass that gathers an L1
/// rescale's norms, so the values' pass masks with the bits instead of running the rule again. Why: DELLA's rule ranks
/// every row and draws for every element, and under the L1 rescale it would do both twice. A kept element keeps its
/// bits and a dropped one becomes +0, so "the rule's output is not +0" is the whole record: applying it gives the rule's
/// output bit for bit (a kept +0 is +0 either way). The bits are dropped once every element has been served; a later
/// read runs the rule again, to the same values.
/// </summary>
internal sealed class KeptBits
{
    /// <summary>The most bytes of bits one tensor keeps (an embedding of a large vocabulary runs its rule twice instead).</summary>
    public const long MaxBytes = 16L << 20;

    private ulong[]? _words;
    private readonly long _elementCount;
    private long _served;
    private int _readers;
    private readonly object _gate = new();

    private KeptBits(long elementCount)
    {
        _elementCount = elementCount;
        // Pooled: a fresh array per tensor lives on the large object heap until a full collection, and a merge's
        // dropped bits (an eighth of a byte per element of every vector) piled up there, a hundred MB of peak RSS.
        int length = (int)((elementCount + 63) / 64);
        _words = ScratchArrays<ulong>.Rent(length);
        Array.Clear(_words, 0, length);
    }

    /// <summary>Bits for a tensor of <paramref name="elementCount"/> elements, or null when they would pass <see cref="MaxBytes"/>.</summary>
    public static KeptBits? For(long elementCount) => (elementCount + 7) / 8 <= MaxBytes ? new KeptBits(elementCount) : null;

    /// <summary>Records the rule's output for elements [first, first + masked.Length); each element is recorded once.</summary>
    public void Record(ReadOnlySpan<float> masked, long first) => RecordBits(masked, first, _words!);

    /// <summary>
    /// Sets the bit of every element whose output is not +0, eight elements (one byte of the little-endian words) per SIMD
    /// compare where the hardware has it: the bit-at-a-time loop was a tenth of a DELLA merge's CPU.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    private static void RecordBits(ReadOnlySpan<float> masked, long first, ulong[] words)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            for (; j < masked.Length && ((first + j) & 7) != 0; j++) RecordOne(masked[j], first + j, words);
            var bytes = MemoryMarshal.AsBytes(words.AsSpan());
            ref float start = ref MemoryMarshal.GetReference(masked);
            for (; j + 8 <= masked.Length; j += 8)
            {
                var bits = Vector256.LoadUnsafe(ref start, (nuint)j).AsUInt32();
                bytes[(int)((first + j) >> 3)] |= (byte)(~Vector256.Equals(bits, Vector256<uint>.Zero)).ExtractMostSignificantBits();
            }
        }
        for (; j < masked.Length; j++) RecordOne(masked[j], first + j, words);
    }

    private static void RecordOne(float value, long element, ulong[] words)
    {
        if (BitConverter.SingleToUInt32Bits(value) != 0) words[element >> 6] |= 1UL << (int)(element & 63);
    }

    /// <summary>
    /// Masks <paramref name="values"/> (elements [first, + length)) as the rule did, the kept ones multiplied by
    /// <paramref name="factor"/> in the same walk (float32, as a scaling pass after the mask gives them; a dropped element
    /// is +0 either way); false when the bits are gone and the caller must run the rule and scale. The
    /// <paramref name="served"/> elements are counted, and the bits let go after the last.
    /// </summary>
    public bool TryApply(Span<float> values, long first, long served, float factor = 1)
    {
        ulong[] words;
        lock (_gate)
        {
            if (_words is null) return false;
            words = _words;
            _readers++;
        }
        Mask(values, first, words, factor);
        lock (_gate)
        {
            _readers--;
            _served += served;
            // The pooled array goes back only when no reader holds it: two exports of one handle may read at once.
            if (_served >= _elementCount && _readers == 0 && _words is { } last)
            {
                _words = null;
                ScratchArrays<ulong>.Return(last);
            }
        }
        return true;
    }

    /// <summary>
    /// Clears every element whose bit is not set (to +0) and multiplies the others by <paramref name="factor"/> (skipped
    /// at 1), eight at a time from one byte where the hardware has SIMD.
    /// </summary>
    [MethodImpl(HotLoop.Options)]
    private static void Mask(Span<float> values, long first, ulong[] words, float factor)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            for (; j < values.Length && ((first + j) & 7) != 0; j++) values[j] = MaskOne(values[j], first + j, words, factor);
            var bytes = MemoryMarshal.AsBytes(words.AsSpan());
            var laneBits = Vector256.Create(1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u);
            var factors = Vector256.Create(factor);
            bool scales = factor != 1;
            ref float start = ref MemoryMarshal.GetReference(values);
            for (; j + 8 <= values.Length; j += 8)
            {
                var keep = ~Vector256.Equals(Vector256.Create((uint)bytes[(int)((first + j) >> 3)]) & laneBits, Vector256<uint>.Zero);
                var value = Vector256.LoadUnsafe(ref start, (nuint)j);
                if (scales) value *= factors;
                (value.AsUInt32() & keep).AsSingle().StoreUnsafe(ref start, (nuint)j);
            }
        }
        for (; j < values.Length; j++) values[j] = MaskOne(values[j], first + j, words, factor);
    }

    private static float MaskOne(float value, long element, ulong[] words, float factor)
    {
        uint keep = 0u - (uint)((words[element >> 6] >> (int)(element & 63)) & 1);
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(factor == 1 ? value : value * factor) & keep);
    }
}
