namespace ChatVector.Core.IO;

/// <summary>
/// First-fit placement of ranges in a region of fixed length, freed ranges merged with their free neighbours. Held
/// tensor copies (<see cref="ResidentTensors"/>) are placed in one region this way, so their memory is faulted in once
/// per stream instead of once per tensor (faulting in fresh pages for every copy costs CPU on every tensor). Not
/// thread-safe: its owner locks. A general-purpose allocator (malloc) cannot be asked to keep pages, hence this.
/// </summary>
public sealed class RangeAllocator
{
    /// <summary>Free ranges, sorted by start, never adjacent (adjacent ones are merged).</summary>
    private readonly List<(long Start, long Length)> _free = new();

    public RangeAllocator(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        if (length > 0) _free.Add((0, length));
    }

    public long Length { get; }

    /// <summary>Bytes in ranges placed and not yet freed.</summary>
    public long Used { get; private set; }

    /// <summary>The start of a new range of <paramref name="length"/> bytes: the lowest free place it fits; null when none does.</summary>
    public long? TryAllocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        for (int i = 0; i < _free.Count; i++)
        {
            var (start, free) = _free[i];
            if (free < length) continue;
            if (free == length) _free.RemoveAt(i);
            else _free[i] = (start + length, free - length);
            Used += length;
            return start;
        }
        return null;
    }

    /// <summary>Gives back a range that <see cref="TryAllocate"/> placed.</summary>
    public void Free(long start, long length)
    {
        int at = _free.FindIndex(r => r.Start > start); // the first free range after this one
        if (at < 0) at = _free.Count;
        bool overlapsBefore = at > 0 && _free[at - 1].Start + _free[at - 1].Length > start;
        bool overlapsAfter = at < _free.Count && start + length > _free[at].Start;
        if (start < 0 || length <= 0 || start + length > Length || overlapsBefore || overlapsAfter)
            throw new InvalidOperationException($"[{start}, {start + length}) was not placed, or was freed twice");
        Used -= length;
        bool joinsBefore = at > 0 && _free[at - 1].Start + _free[at - 1].Length == start;
        bool joinsAfter = at < _free.Count && start + length == _free[at].Start;
        if (joinsBefore && joinsAfter)
        {
            _free[at - 1] = (_free[at - 1].Start, _free[at - 1].Length + length + _free[at].Length);
            _free.RemoveAt(at);
        }
        else if (joinsBefore) _free[at - 1] = (_free[at - 1].Start, _free[at - 1].Length + length);
        else if (joinsAfter) _free[at] = (start, length + _free[at].Length);
        else _free.Insert(at, (start, length));
    }
}
