namespace ChatVector.Core.Kernels;

/// <summary>
/// The 0-based rank of each key of a row in the magnitude order, ties broken by position: a stable least-significant-digit
/// radix sort of the positions by their 31-bit keys, four 8-bit digits counted in one pass over the keys, a digit every
/// key shares skipped; keys without low bits take a counting sort instead (<see cref="RankRoundKeys"/>). Why not
/// Array.Sort: a comparison sort of (key, position) pairs costs m·log m comparisons per row, several times the two or
/// three linear passes this takes, and DELLA ranks every row of a model.
/// </summary>
public sealed class RowRanks
{
    private const int DigitBits = 8, Digits = 4, Buckets = 1 << DigitBits;
    private int[] _positions = [], _spare = [];
    private readonly int[] _counts = new int[Digits * Buckets];
    private int[]? _nextInBucket;
    private readonly List<int> _touchedBuckets = [];

    /// <summary>Ranks into <paramref name="ranks"/>, reusing this instance's arrays (one instance per thread).</summary>
    public void Rank(ReadOnlySpan<uint> keys, Span<int> ranks)
    {
        uint orOfKeys = 0;
        foreach (var key in keys) orOfKeys |= key;
        if ((orOfKeys & 0xFFFF) == 0) RankRoundKeys(keys, ranks);
        else RankByRadix(keys, ranks);
    }

    /// <summary>
    /// Keys whose low 16 bits are all zero (a bf16 chat vector's: each a difference of bf16 values a few steps apart):
    /// the high 15 bits are the key, so a counting sort over them, its prefix sums over the buckets the row touches (a
    /// few dozen), ranks the row in two linear passes; the radix sort's passes cost several times as much.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private void RankRoundKeys(ReadOnlySpan<uint> keys, Span<int> ranks)
    {
        var next = _nextInBucket ??= new int[1 << 15]; // all zero between calls
        var touched = _touchedBuckets;
        touched.Clear();
        foreach (var key in keys)
        {
            int bucket = (int)(key >> 16);
            if (next[bucket]++ == 0) touched.Add(bucket);
        }
        var buckets = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(touched);
        buckets.Sort();
        int start = 0;
        foreach (var bucket in buckets) (next[bucket], start) = (start, start + next[bucket]);
        for (int j = 0; j < keys.Length; j++) ranks[j] = next[(int)(keys[j] >> 16)]++;
        foreach (var bucket in buckets) next[bucket] = 0;
    }

    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    private void RankByRadix(ReadOnlySpan<uint> keys, Span<int> ranks)
    {
        int m = keys.Length;
        if (m == 0) return;
        if (_positions.Length < m) (_positions, _spare) = (new int[m], new int[m]);
        var counts = _counts.AsSpan();
        counts.Clear();
        foreach (var key in keys)
        {
            counts[(int)(key & 0xFF)]++;
            counts[Buckets + (int)((key >> 8) & 0xFF)]++;
            counts[2 * Buckets + (int)((key >> 16) & 0xFF)]++;
            counts[3 * Buckets + (int)(key >> 24)]++;
        }
        var order = _positions.AsSpan(0, m);
        var next = _spare.AsSpan(0, m);
        bool sorted = false; // order holds the positions once a digit has been scattered
        for (int digit = 0; digit < Digits; digit++)
        {
            var digitCounts = counts.Slice(digit * Buckets, Buckets);
            int shift = digit * DigitBits;
            if (digitCounts[(int)((keys[0] >> shift) & 0xFF)] == m) continue; // one value for all: the order stands
            int start = 0;
            for (int d = 0; d < Buckets; d++) (digitCounts[d], start) = (start, start + digitCounts[d]);
            if (sorted)
                foreach (var position in order) next[digitCounts[(int)((keys[position] >> shift) & 0xFF)]++] = position;
            else
                for (int position = 0; position < m; position++) next[digitCounts[(int)((keys[position] >> shift) & 0xFF)]++] = position;
            var swap = order;
            order = next;
            next = swap;
            sorted = true;
        }
        if (!sorted)
        {
            for (int i = 0; i < m; i++) ranks[i] = i;
            return;
        }
        for (int rank = 0; rank < m; rank++) ranks[order[rank]] = rank;
    }
}
