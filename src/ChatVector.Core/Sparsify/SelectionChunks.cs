using System.Runtime.ExceptionServices;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Sparsify;

/// <summary>Counts a chunk's keys into <c>histogram</c>: one of <see cref="ExactSelection"/>'s counting loops.</summary>
internal delegate void HistogramAdder(ReadOnlySpan<uint> keys, long[] histogram);

/// <summary>
/// A tensor's keys as numbered chunks, read by a few threads at once, each with its own key buffer: the passes of
/// <see cref="ExactSelection"/> over them (histograms, per thread then summed) and pass 3's walk to the wanted element.
/// </summary>
/// <param name="cache">Room for every key (the first pass fills it, the later passes read it), or null: every pass reads.</param>
internal sealed class SelectionChunks(long elementCount, int chunkElements, ExactSelection.KeyReader readKeys, int parallelism, CancellationToken cancellation, uint[]? cache)
{
    /// <summary>A pass over every chunk has filled the cache: the later passes read the keys it holds.</summary>
    private bool _cached;

    public long Count => (elementCount + chunkElements - 1) / chunkElements;

    public long ElementCount => elementCount;

    /// <summary>Whether every key can be kept in memory between passes.</summary>
    public bool CanKeepKeys => cache is not null;

    private void Read(long chunk, uint[] buffer, out Span<uint> keys)
    {
        cancellation.ThrowIfCancellationRequested();
        long start = chunk * chunkElements;
        int length = (int)Math.Min(chunkElements, elementCount - start);
        if (cache is null)
        {
            keys = buffer.AsSpan(0, length);
            readKeys(start, keys);
            return;
        }
        keys = cache.AsSpan((int)start, length);
        if (!_cached) readKeys(start, keys);
    }

    /// <summary>
    /// A histogram of <paramref name="size"/> counters filled by <paramref name="add"/> over every chunk (per thread,
    /// then summed), in a scratch array the caller returns (at least <paramref name="size"/> long): one per pass of
    /// every trimmed tensor, so fresh ones (large-object heap, collected only by a full GC) piled up in memory.
    /// </summary>
    /// <param name="perChunk">Also each chunk's own counters, at [chunk × size, (chunk + 1) × size), or null.</param>
    public long[] Histogram(int size, HistogramAdder add, long[]? perChunk = null)
    {
        var total = HistogramOf(Count, chunk => chunk, size, add, perChunk);
        _cached = cache is not null; // every chunk was read
        return total;
    }

    /// <summary>A histogram as <see cref="Histogram"/>'s over every <paramref name="every"/>-th chunk only (from the middle of the first stretch).</summary>
    public long[] SampleOfChunks(int every, int size, HistogramAdder add) =>
        HistogramOf(Count / every, p => p * every + every / 2, size, add, perChunk: null);

    /// <summary>The histogram over the chunks <paramref name="chunkAt"/>(0 .. <paramref name="count"/> − 1).</summary>
    private long[] HistogramOf(long count, Func<long, long> chunkAt, int size, HistogramAdder add, long[]? perChunk)
    {
        var total = ScratchArrays<long>.Rent(size);
        Array.Clear(total, 0, size);
        RunOnThreads(worker =>
        {
            var buffer = ScratchArrays<uint>.Rent(chunkElements);
            var mine = ScratchArrays<long>.Rent(size);
            var ofChunk = perChunk is null ? null : ScratchArrays<long>.Rent(size);
            try
            {
                Array.Clear(mine, 0, size);
                for (long p = worker; p < count; p += parallelism)
                {
                    long chunk = chunkAt(p);
                    Read(chunk, buffer, out var keys);
                    if (ofChunk is null)
                    {
                        add(keys, mine);
                        continue;
                    }
                    Array.Clear(ofChunk, 0, size);
                    add(keys, ofChunk);
                    ofChunk.AsSpan(0, size).CopyTo(perChunk.AsSpan((int)(chunk * size), size));
                    for (int i = 0; i < size; i++) mine[i] += ofChunk[i];
                }
                lock (total)
                    for (int i = 0; i < size; i++) total[i] += mine[i];
            }
            finally
            {
                ScratchArrays<uint>.Return(buffer);
                ScratchArrays<long>.Return(mine);
                if (ofChunk is not null) ScratchArrays<long>.Return(ofChunk);
            }
        });
        return total;
    }

    /// <summary>
    /// As <see cref="NthEqual"/>, knowing how many elements equal to <paramref name="key"/> each chunk holds: reads
    /// only the chunk holding the wanted one.
    /// </summary>
    public long NthEqualCounted(uint key, long rank, long[] equalPerChunk)
    {
        for (long chunk = 0; chunk < Count; chunk++)
        {
            if (rank >= equalPerChunk[chunk])
            {
                rank -= equalPerChunk[chunk];
                continue;
            }
            var buffer = ScratchArrays<uint>.Rent(chunkElements);
            try
            {
                Read(chunk, buffer, out var keys);
                for (int i = 0; i < keys.Length; i++)
                    if (keys[i] == key && rank-- == 0) return chunk * chunkElements + i;
            }
            finally { ScratchArrays<uint>.Return(buffer); }
            break;
        }
        throw new InvalidOperationException("the tensor's values changed between selection passes");
    }

    /// <summary>
    /// The flat index of the <paramref name="rank"/>-th (0-based) of the <paramref name="equalCount"/> elements whose key
    /// is <paramref name="key"/>. Chunks are counted a batch at a time on the threads, from the end nearer the wanted
    /// element (a quarter of the tensor read on average, not half), then the counts are walked in that order.
    /// </summary>
    public long NthEqual(uint key, long rank, long equalCount)
    {
        if (parallelism == 1 || Count == 1) return NthEqualInOrder(key, rank);
        bool backward = rank >= equalCount / 2;
        long wanted = backward ? equalCount - 1 - rank : rank; // counted from the end the scan starts at
        long batch = parallelism * 4L;
        var counts = new long[batch];
        for (long done = 0; done < Count; done += batch)
        {
            long n = Math.Min(batch, Count - done);
            long ChunkAt(long p) => backward ? Count - 1 - (done + p) : done + p;
            RunOnThreads(worker =>
            {
                var buffer = ScratchArrays<uint>.Rent(chunkElements);
                try
                {
                    for (long p = worker; p < n; p += parallelism)
                    {
                        Read(ChunkAt(p), buffer, out var keys);
                        counts[p] = CountEqual(keys, key);
                    }
                }
                finally { ScratchArrays<uint>.Return(buffer); }
            });
            for (long p = 0; p < n; p++)
            {
                if (wanted >= counts[p]) { wanted -= counts[p]; continue; }
                long chunk = ChunkAt(p);
                long within = backward ? counts[p] - 1 - wanted : wanted; // rank among the chunk's equal keys, from its start
                var buffer = ScratchArrays<uint>.Rent(chunkElements);
                try
                {
                    Read(chunk, buffer, out var keys);
                    for (int i = 0; i < keys.Length; i++)
                        if (keys[i] == key && within-- == 0) return chunk * chunkElements + i;
                }
                finally { ScratchArrays<uint>.Return(buffer); }
                throw new InvalidOperationException("the tensor's values changed between selection passes");
            }
        }
        throw new InvalidOperationException("the tensor's values changed between selection passes");
    }

    /// <summary>One thread: the chunks in order, stopping at the element (one read per chunk, none after it).</summary>
    private long NthEqualInOrder(uint key, long rank)
    {
        var buffer = ScratchArrays<uint>.Rent(chunkElements);
        try
        {
            for (long chunk = 0; chunk < Count; chunk++)
            {
                Read(chunk, buffer, out var keys);
                for (int i = 0; i < keys.Length; i++)
                    if (keys[i] == key && rank-- == 0) return chunk * chunkElements + i;
            }
        }
        finally { ScratchArrays<uint>.Return(buffer); }
        throw new InvalidOperationException("the tensor's values changed between selection passes");
    }

    private static long CountEqual(ReadOnlySpan<uint> keys, uint key) => keys.Count(key); // the runtime's SIMD count

    /// <summary>Runs <paramref name="work"/>(0 .. parallelism-1), worker 0 on this thread, the others on threads of their own
    /// (not the thread pool: its threads may all be streaming workers waiting for this selection).</summary>
    private void RunOnThreads(Action<int> work)
    {
        int workers = (int)Math.Min(parallelism, Math.Max(1, Count));
        ExceptionDispatchInfo? failure = null;
        void Guarded(int worker)
        {
            try { work(worker); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
        }
        var threads = Enumerable.Range(1, workers - 1).Select(w => new Thread(() =>
        {
            KeyCache.Selecting = true;
            Guarded(w);
        }) { IsBackground = true }).ToList();
        foreach (var thread in threads) thread.Start();
        Guarded(0);
        foreach (var thread in threads) thread.Join();
        failure?.Throw();
    }
}
