using System.Numerics;
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
    public void Record(ReadOnlySpan<float> masked, long first)
    {
        var words = _words!;
        for (int j = 0; j < masked.Length; j++)
        {
            long element = first + j;
            if (BitConverter.SingleToUInt32Bits(masked[j]) != 0) words[element >> 6] |= 1UL << (int)(element & 63);
        }
    }

    /// <summary>
    /// Masks <paramref name="values"/> (elements [first, + length)) as the rule did; false when the bits are gone and the
    /// caller must run the rule. The <paramref name="served"/> elements are counted, and the bits let go after the last.
    /// </summary>
    public bool TryApply(Span<float> values, long first, long served)
    {
        ulong[] words;
        lock (_gate)
        {
            if (_words is null) return false;
            words = _words;
            _readers++;
        }
        for (int j = 0; j < values.Length; j++)
        {
            long element = first + j;
            uint keep = 0u - (uint)((words[element >> 6] >> (int)(element & 63)) & 1);
            values[j] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(values[j]) & keep);
        }
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
}
