namespace ChatVector.Core.Sparsify;

/// <summary>
/// One reusable array for a tensor's keys during its selection, so passes 2 and 3 scan memory instead of reading and
/// recomputing the vector (reading and computing keys is a trim's main cost). Up to 16M keys (64 MB; every layer tensor
/// of a model with hidden size 2048, the attention tensors of a 7B model); larger tensors sample chunks instead (see
/// <see cref="ExactSelection"/>'s pass 1). Kept for the
/// process once made: its pages are only those used. A selection that finds it in use waits for it: the two vectors
/// of a merged tensor are often selected at once (its first chunks start while the next tensor's preparation runs
/// one selection), both on all cores, and the one without the array would read its files again.
/// </summary>
internal static class KeyCache
{
    public const int MaxKeys = 16 << 20;
    /// <summary>
    /// The longest wait. A selection of 16M keys takes well under a second; the bound matters only when the holder
    /// waits for the waiter (a trim of a trimmed vector whose inner trim is being selected on another thread, its
    /// lock held): the waiter then goes on without the array, and both finish.
    /// </summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);
    private static uint[]? _spare;
    private static bool _made;
    private static readonly object Gate = new();

    /// <summary>
    /// This thread works for a selection (it called one, or runs one's chunks): a selection started here is nested in
    /// another's key reads (a trim of a trimmed vector) and must not wait for the cache the outer one holds.
    /// </summary>
    [ThreadStatic] internal static bool Selecting;

    public static uint[]? Rent(long elementCount, bool mayWait, CancellationToken cancellation)
    {
        if (elementCount > MaxKeys) return null;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        lock (Gate)
        {
            while (true)
            {
                if (_spare is { } spare)
                {
                    _spare = null;
                    return spare;
                }
                if (!_made)
                {
                    _made = true;
                    return GC.AllocateUninitializedArray<uint>(MaxKeys);
                }
                var left = MaxWait - waited.Elapsed;
                if (!mayWait || left <= TimeSpan.Zero) return null;
                cancellation.ThrowIfCancellationRequested();
                Monitor.Wait(Gate, TimeSpan.FromMilliseconds(Math.Min(50, left.TotalMilliseconds))); // woken by Return; the slices notice cancellation
            }
        }
    }

    public static void Return(uint[] keys)
    {
        lock (Gate)
        {
            _spare = keys;
            Monitor.PulseAll(Gate);
        }
    }
}
