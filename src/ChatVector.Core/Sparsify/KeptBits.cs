using System.Numerics;

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

    private KeptBits(long elementCount)
    {
        _elementCount = elementCount;
        _words = new ulong[(elementCount + 63) / 64];
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
        var words = Volatile.Read(ref _words);
        if (words is null) return false;
        for (int j = 0; j < values.Length; j++)
        {
            long element = first + j;
            uint keep = 0u - (uint)((words[element >> 6] >> (int)(element & 63)) & 1);
            values[j] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(values[j]) & keep);
        }
        if (Interlocked.Add(ref _served, served) >= _elementCount) Volatile.Write(ref _words, null);
        return true;
    }
}
