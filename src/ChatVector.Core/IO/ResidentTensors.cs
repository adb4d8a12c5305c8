using System.Runtime.InteropServices;
using ChatVector.Core.Settings;

namespace ChatVector.Core.IO;

/// <summary>
/// Bytes [<paramref name="Offset"/>, <paramref name="Offset"/> + <paramref name="Length"/>) of a file as it was when
/// opened (path, length, write time): what a held copy is keyed by, so a reader of a file that has changed since never
/// sees the old copy.
/// </summary>
public readonly record struct FileRange(string Path, long FileLength, DateTime LastWriteUtc, long Offset, long Length);

/// <summary>Reads a range's bytes from its file into <paramref name="destination"/> (the range's whole length).</summary>
public delegate void RangeReader(Span<byte> destination);

/// <summary>
/// Copies of stored tensors' bytes held in memory while an output tensor that reads them several times is computed
/// (a TIES merge reads the base tensor as the model and once per vector, and a trimmed vector once per selection pass
/// and once more to merge). The file reader serves a held tensor from its copy, and the hot readers compute straight
/// from it (<see cref="TryBorrow"/>), so each held byte is read from the file once: every read of the page cache is a
/// kernel copy, which a TIES merge would otherwise pay several times per element.
/// Transparent to readers (a tensor not held is read from its file as before), bounded by a byte budget, and keyed by
/// the range of the file as it was opened (<see cref="FileRange"/>); what a tensor is, the file format says. Copies
/// live in one native region of the budget's size (<see cref="RangeAllocator"/>), made at the first hold and freed
/// when a stream ends (<see cref="ReleaseSpare"/>): its pages are faulted in once.
/// </summary>
public static class ResidentTensors
{
    /// <summary>Copies are placed in whole MB (a grain for the placement, not a page size).</summary>
    private const long Grain = 1 << 20;

    private static readonly object Gate = new();
    private static readonly Dictionary<FileRange, Copy> Held = new();
    private static Region? _region;
    private static long _copiesMade;

    /// <summary>
    /// Bytes of memory the copies take at most. 144 MB holds every input of the tensor written and of the one prepared
    /// for the MLP tensors of a model of hidden size 2048 (the benchmark's; less leaves the prepared one's cp to the
    /// files), or of two attention tensors of a 7B model; for larger tensors, what fits, the most re-read first
    /// (<see cref="TryHold"/>). The budget adds to a merge's peak memory: it is what keeps a TIES merge under 0.5 GB.
    /// <see cref="EnvironmentSettings.ResidentMegabytes"/> overrides it (0 holds nothing: every pass reads the files).
    /// </summary>
    public static long BudgetBytes { get; set; } = (long)EnvironmentSettings.ResidentMegabytes << 20;

    /// <summary>Bytes held now, in whole MB per copy (tests and the benchmark watch it).</summary>
    public static long HeldBytes
    {
        get { lock (Gate) return _region?.Placement.Used ?? 0; }
    }

    /// <summary>Tensors copied into memory since the process started (tests and the benchmark watch it).</summary>
    public static long CopiesMade => Interlocked.Read(ref _copiesMade);

    /// <summary>Bytes of native memory reserved for copies now: the region's size, or 0 when there is none.</summary>
    public static long AllocatedBytes
    {
        get { lock (Gate) return _region?.Placement.Length ?? 0; }
    }

    /// <summary>
    /// Holds the tensors of <paramref name="tensors"/> in memory until the returned lease is disposed, in the order given,
    /// each one that still fits the budget (so the first, the most re-read, come first: a merge's model before its
    /// vectors' inputs); null when none does. A tensor already held by another lease is shared. Read failures propagate,
    /// holding nothing.
    /// </summary>
    public static IDisposable? TryHold(IEnumerable<(FileRange Range, RangeReader Read)> tensors, CancellationToken cancellation = default) =>
        TryHold(tensors, out _, cancellation);

    /// <inheritdoc cref="TryHold(IEnumerable{ValueTuple{FileRange, RangeReader}}, CancellationToken)"/>
    /// <param name="complete">Whether every tensor given is held (none was left out for want of room).</param>
    public static IDisposable? TryHold(IEnumerable<(FileRange Range, RangeReader Read)> tensors, out bool complete, CancellationToken cancellation = default)
    {
        var wanted = tensors.Where(t => t.Range.Length > 0).DistinctBy(t => t.Range).ToList();
        var lease = new Lease();
        complete = true;
        var toRead = new List<(RangeReader Read, Copy Copy)>();
        try
        {
            lock (Gate)
            {
                foreach (var (key, read) in wanted)
                {
                    if (Held.TryGetValue(key, out var held) && held.TryShare()) lease.Add(held);
                    else if (Place(key) is { } copy)
                    {
                        lease.Add(copy); // released by the lease even if its reading fails
                        toRead.Add((read, copy));
                    }
                    else complete = false;
                }
            }
            if (lease.IsEmpty) return null;
            foreach (var (read, copy) in toRead)
            {
                cancellation.ThrowIfCancellationRequested();
                read(copy.Bytes);
                lock (Gate) Held[copy.Key] = copy; // readable from here on
                Interlocked.Increment(ref _copiesMade);
            }
            return lease;
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>Frees the copies' memory when nothing is held (a stream calls it when it ends).</summary>
    public static void ReleaseSpare()
    {
        lock (Gate)
        {
            if (_region is not { Placement.Used: 0 } idle) return;
            idle.Free();
            _region = null;
        }
    }

    /// <summary>Copies the bytes from a held copy of the range, if there is one; false leaves reading to the file.</summary>
    internal static bool TryRead(FileRange range, long offsetInRange, Span<byte> destination)
    {
        if (!TryBorrow(range, offsetInRange, destination.Length, out var borrowed)) return false;
        using (borrowed) borrowed.Bytes.CopyTo(destination);
        return true;
    }

    /// <summary>
    /// Lends bytes [offset, offset + length) of a held copy of the range, if there is one, until the loan is disposed
    /// (the copy's memory is not reused meanwhile): the hot readers compute straight from it, with no copy in between.
    /// A copy this thread read for its chunk (<see cref="ThreadChunkCopies"/>) is lent first.
    /// </summary>
    internal static bool TryBorrow(FileRange range, long offsetInRange, int length, out Loan loan)
    {
        if (ThreadChunkCopies.TryLend(range, offsetInRange, length, out var chunkBytes))
        {
            loan = Loan.Of(null, chunkBytes);
            return true;
        }
        loan = default;
        Copy? copy;
        lock (Gate)
        {
            if (Held.Count == 0 || !Held.TryGetValue(range, out copy) || !copy.TryEnterRead()) return false;
        }
        loan = Loan.Of(copy, copy.Bytes.Slice((int)offsetInRange, length));
        return true;
    }

    /// <summary>Whether the range is held now (a hint: it may be let go right after).</summary>
    public static bool IsHeld(FileRange range)
    {
        lock (Gate) return Held.Count > 0 && Held.ContainsKey(range);
    }

    /// <summary>Bytes of a held copy, lent to a reader; disposing it ends the loan.</summary>
    public readonly ref struct Loan
    {
        private readonly object? _copy; // a Copy (private to this class)

        private Loan(object? copy, ReadOnlySpan<byte> bytes)
        {
            _copy = copy;
            Bytes = bytes;
        }

        /// <summary>A loan of a held copy, or (<paramref name="copy"/> null) of this thread's chunk copy, which needs no release.</summary>
        internal static Loan Of(object? copy, ReadOnlySpan<byte> bytes) => new(copy, bytes);

        public ReadOnlySpan<byte> Bytes { get; }

        public void Dispose()
        {
            if (_copy is Copy copy) ExitRead(copy);
        }
    }

    /// <summary>Called under the gate: room for a copy of the tensor in the region (made at the budget's size when there is none), or null.</summary>
    private static Copy? Place(FileRange key)
    {
        long length = (key.Length + Grain - 1) / Grain * Grain;
        if (length > BudgetBytes) return null;
        if (_region is { Placement.Used: 0 } stale && stale.Placement.Length != BudgetBytes)
        {
            stale.Free(); // the budget was changed since it was made
            _region = null;
        }
        _region ??= Region.Allocate(BudgetBytes);
        return _region.Placement.TryAllocate(length) is { } offset ? new Copy(key, _region, offset, length) : null;
    }

    private static void ExitRead(Copy copy)
    {
        lock (Gate)
            if (copy.ExitRead()) Release(copy);
    }

    /// <summary>Called under the gate once a copy has no lease and no reader: its room goes back to the region.</summary>
    private static void Release(Copy copy)
    {
        if (Held.TryGetValue(copy.Key, out var held) && ReferenceEquals(held, copy)) Held.Remove(copy.Key);
        copy.Region.Placement.Free(copy.Offset, copy.Length);
    }

    /// <summary>One held tensor: where its bytes lie, the leases holding it and the readers using them right now.</summary>
    private sealed class Copy(FileRange key, Region region, long offset, long length)
    {
        private int _leases = 1, _readers;

        public FileRange Key { get; } = key;
        public Region Region { get; } = region;
        public long Offset { get; } = offset;
        public long Length { get; } = length;
        public unsafe Span<byte> Bytes => new((void*)(Region.Address + (nint)Offset), checked((int)Key.Length));

        // All called under the gate.
        public bool TryShare()
        {
            if (_leases == 0) return false; // being released: a new copy is made
            _leases++;
            return true;
        }

        public bool TryEnterRead()
        {
            if (_leases == 0) return false;
            _readers++;
            return true;
        }

        /// <summary>True when this was the last user: the caller releases the copy.</summary>
        public bool ExitRead() => --_readers == 0 && _leases == 0;

        public bool Unlease() => --_leases == 0 && _readers == 0;
    }

    private sealed class Lease : IDisposable
    {
        private readonly List<Copy> _copies = new();
        private bool _disposed;

        public void Add(Copy copy) => _copies.Add(copy);

        public bool IsEmpty => _copies.Count == 0;

        public void Dispose()
        {
            lock (Gate)
            {
                if (_disposed) return;
                _disposed = true;
                foreach (var copy in _copies)
                    if (copy.Unlease()) Release(copy);
            }
        }
    }

    /// <summary>
    /// Native memory for the copies, page-aligned, freed as a whole at once (not at the next full garbage collection).
    /// Large enough that glibc maps it on its own, so freeing it gives its pages back to the system.
    /// </summary>
    private sealed class Region(IntPtr address, long length)
    {
        public IntPtr Address { get; private set; } = address;
        public RangeAllocator Placement { get; } = new(length);

        public static unsafe Region Allocate(long bytes) => new((IntPtr)NativeMemory.AlignedAlloc((nuint)bytes, 4096), bytes);

        public unsafe void Free()
        {
            NativeMemory.AlignedFree((void*)Address);
            Address = IntPtr.Zero;
        }
    }
}
