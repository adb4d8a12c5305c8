using ChatVector.Core.Tensors;
using System.Runtime.ExceptionServices;

namespace ChatVector.Core.Sparsify;

/// <summary>
/// Finds the elements at given positions of the magnitude order (<see cref="OrderPoint"/>) exactly, in
/// sequential passes over a tensor's chunks and without holding the tensor: a radix select over the 31-bit
/// magnitude keys. Pass 1 builds a histogram of the high 15 bits and, to spare the other passes, collects
/// (key, index) of the elements in a band of buckets around each position's estimated key (estimated from
/// a small sample of spans read first). Where the position's bucket lies inside its band, the answer is
/// found among the collected elements in memory. Otherwise (a wrong estimate, or more elements in the band
/// than <see cref="MaxCandidates"/>), pass 2 histograms the low 16 bits inside the chosen bucket and pass 3
/// walks the elements equal to the found key in flat-index order to the wanted one. Memory is one chunk of
/// keys, the histograms per thread and the bounded candidates; the answer depends neither on the chunk size,
/// the sample nor the threads (histograms are sums, candidates are sorted, pass 3 counts per chunk and walks
/// the counts in order).
/// </summary>
public static class ExactSelection
{
    private const int HighBits = 15, LowBits = 16;

    /// <summary>Fills <c>keys</c> with the keys of elements [start, start + keys.Length); called from several threads at once.</summary>
    public delegate void KeyReader(long start, Span<uint> keys);

    /// <param name="elementCount">n, the tensor's element count.</param>
    /// <param name="positions">0-based positions in [0, n) of the order.</param>
    /// <param name="readKeys">The keys of elements [start, start + count).</param>
    /// <param name="chunkElements">How many elements one read covers.</param>
    public static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, Func<long, int, uint[]> readKeys, int chunkElements,
        CancellationToken cancellation = default) =>
        Select(elementCount, positions, (start, keys) => readKeys(start, keys.Length).AsSpan().CopyTo(keys), chunkElements, parallelism: 1, cancellation);

    /// <param name="parallelism">Threads reading chunks at once (the caller's thread is one of them).</param>
    /// <param name="maxCandidates">The most (key, index) pairs pass 1 may collect (8 bytes each).</param>
    public static OrderPoint[] Select(long elementCount, IReadOnlyList<long> positions, KeyReader readKeys, int chunkElements, int parallelism,
        CancellationToken cancellation = default, int maxCandidates = MaxCandidates)
    {
        foreach (var position in positions)
            if (position < 0 || position >= elementCount) throw new ArgumentOutOfRangeException(nameof(positions), position, $"order position outside [0, {elementCount})");
        if (positions.Count == 0) return [];
        var chunks = new Chunks(elementCount, chunkElements, readKeys, Math.Max(1, parallelism), cancellation);
        var bands = CandidateBands.Estimate(elementCount, positions, readKeys, maxCandidates);

        // Pass 1: which high bucket holds each position, and how many elements lie below that bucket; the band's elements on the side.
        var (high, candidates) = chunks.HistogramAndCandidates(1 << HighBits, bands, maxCandidates);
        var points = new OrderPoint[positions.Count];
        var bucket = new uint[positions.Count];
        var rest = new long[positions.Count]; // the position's rank among the elements of its bucket, then of its key
        var unresolved = new List<int>();
        try
        {
            for (int t = 0; t < positions.Count; t++)
            {
                (bucket[t], rest[t]) = Locate(high, 0, high.Length, positions[t]);
                if (candidates is not null && bands.Covers(bucket[t])) points[t] = NthInBucket(candidates, bucket[t], rest[t], high[bucket[t]]);
                else unresolved.Add(t);
            }
        }
        finally
        {
            candidates?.ForEach(list => list.Clear());
        }
        if (unresolved.Count == 0) return points;

        // Pass 2: inside each wanted bucket, the exact key. One histogram holds every wanted bucket's low bits.
        var buckets = unresolved.Select(t => bucket[t]).Distinct().ToArray();
        var low = chunks.Histogram(buckets.Length << LowBits, (keys, histogram) =>
        {
            foreach (var key in keys)
            {
                uint high = key >> LowBits;
                for (int slot = 0; slot < buckets.Length; slot++)
                    if (buckets[slot] == high) { histogram[(slot << LowBits) | (int)(key & ((1u << LowBits) - 1))]++; break; }
            }
        });
        foreach (var t in unresolved)
        {
            int slot = Array.IndexOf(buckets, bucket[t]);
            var (lowBits, tieRank) = Locate(low, slot << LowBits, 1 << LowBits, rest[t]);
            uint exactKey = (bucket[t] << LowBits) | lowBits;
            long equalCount = low[(slot << LowBits) | (int)lowBits];
            // Pass 3: among the elements equal to the key, in flat-index order, the tieRank-th one.
            points[t] = new OrderPoint(exactKey, chunks.NthEqual(exactKey, tieRank, equalCount));
        }
        return points;
    }

    /// <summary>
    /// Candidates collected in pass 1 by default, at most: 32 MB, and as much again to sort a bucket. Tensors this
    /// small are collected whole; a 7B model's largest (131M elements) needs a band of 3% of its elements.
    /// </summary>
    public const int MaxCandidates = 4 << 20;

    /// <summary>
    /// The <paramref name="rank"/>-th element (0-based) of high bucket <paramref name="bucket"/>, among the collected
    /// candidates, which hold all <paramref name="bucketCount"/> of its elements: sorted by (key, index), the order's own.
    /// </summary>
    private static OrderPoint NthInBucket(List<Candidates> candidates, uint bucket, long rank, long bucketCount)
    {
        var members = ScratchArrays<ulong>.Rent((int)bucketCount);
        try
        {
            int found = 0;
            foreach (var list in candidates)
                list.ForEach(packed =>
                {
                    if (Packed.Key(packed) >> LowBits != bucket) return;
                    if (found == bucketCount) throw new InvalidOperationException("the tensor's values changed between selection passes");
                    members[found++] = packed;
                });
            if (found != bucketCount) throw new InvalidOperationException("the tensor's values changed between selection passes");
            Array.Sort(members, 0, found);
            var nth = members[rank];
            return new OrderPoint(Packed.Key(nth), Packed.Index(nth));
        }
        finally { ScratchArrays<ulong>.Return(members); }
    }

    /// <summary>
    /// One thread's collected candidates, in blocks from the scratch pool: no doubling copies while a list grows, and
    /// the next tensor's selection reuses the blocks (the pass runs once per tensor; garbage lists would keep RSS up).
    /// </summary>
    private sealed class Candidates
    {
        private const int BlockLength = 1 << 16;
        private readonly List<ulong[]> _blocks = new();
        private int _lastCount = BlockLength;

        public long Count => _blocks.Count == 0 ? 0 : (long)(_blocks.Count - 1) * BlockLength + _lastCount;

        public void Add(ulong packed)
        {
            if (_lastCount == BlockLength)
            {
                _blocks.Add(ScratchArrays<ulong>.Rent(BlockLength));
                _lastCount = 0;
            }
            _blocks[^1][_lastCount++] = packed;
        }

        public void ForEach(Action<ulong> visit)
        {
            for (int b = 0; b < _blocks.Count; b++)
            {
                int length = b == _blocks.Count - 1 ? _lastCount : BlockLength;
                for (int i = 0; i < length; i++) visit(_blocks[b][i]);
            }
        }

        /// <summary>Returns the blocks to the pool.</summary>
        public void Clear()
        {
            foreach (var block in _blocks) ScratchArrays<ulong>.Return(block);
            _blocks.Clear();
            _lastCount = BlockLength;
        }
    }

    /// <summary>A candidate as one sortable word: the key above the flat index, so integer order is the magnitude order.</summary>
    private static class Packed
    {
        public const int IndexBits = 33; // 31 key bits + 33 index bits: tensors of up to 2^33 elements collect candidates
        public const long MaxElements = 1L << IndexBits;
        public static ulong Of(uint key, long index) => ((ulong)key << IndexBits) | (ulong)index;
        public static uint Key(ulong packed) => (uint)(packed >> IndexBits);
        public static long Index(ulong packed) => (long)(packed & (MaxElements - 1));
    }

    /// <summary>
    /// Up to two ranges of high buckets whose elements pass 1 collects: for each wanted position, the buckets a
    /// sample of the tensor places it in, widened by the sample's uncertainty. Tensors small enough to collect
    /// whole take every bucket and need no sample.
    /// </summary>
    private sealed class CandidateBands
    {
        private const int SpanElements = 64;
        private readonly (uint First, uint Last)[] _ranges;

        private CandidateBands((uint First, uint Last)[] ranges) => _ranges = ranges;

        public static readonly CandidateBands None = new([]);

        public bool IsEmpty => _ranges.Length == 0;

        public bool Covers(uint bucket) => _ranges.Any(r => bucket >= r.First && bucket <= r.Last);

        /// <summary>Whether a key's bucket lies in a band (at most two ranges: one per wanted position).</summary>
        public bool Holds(uint key)
        {
            uint bucket = key >> LowBits;
            foreach (var (first, last) in _ranges)
                if (bucket - first <= last - first) return true;
            return false;
        }

        public static CandidateBands Estimate(long n, IReadOnlyList<long> positions, KeyReader readKeys, int maxCandidates)
        {
            if (n >= Packed.MaxElements) return None;
            if (n <= maxCandidates) return new([(0, (1u << HighBits) - 1)]);
            if (positions.Count > 2) return None; // the trims look up two positions at most
            // Spans spread evenly over the tensor: n/128 keys in all, 16384 spans at most (a few ms of reads beside a pass).
            int spans = (int)Math.Clamp(n / (SpanElements * 128L), 64, 16384);
            int spanLength = (int)Math.Min(SpanElements, n);
            var sample = new uint[spans * spanLength];
            for (int s = 0; s < spans; s++)
            {
                long start = Math.Min(n - spanLength, s * (n / spans));
                readKeys(start, sample.AsSpan(s * spanLength, spanLength));
            }
            Array.Sort(sample);
            var ranges = new List<(uint, uint)>();
            foreach (var position in positions)
            {
                double q = (double)position / n;
                // Three standard errors of a quantile counting each span as one draw (its elements are neighbours, so
                // this is wide: as independent draws they would give eight times less), and at least 1% each side.
                double width = Math.Max(0.01, 3 * Math.Sqrt(q * (1 - q) / spans));
                uint Bucket(double quantile) => sample[(int)Math.Clamp(quantile * sample.Length, 0, sample.Length - 1)] >> LowBits;
                ranges.Add((Bucket(q - width), Bucket(q + width)));
            }
            return new([.. ranges]);
        }
    }
    /// <summary>The bucket of histogram[offset, offset + length) holding 0-based rank <paramref name="rank"/>, and the rank within it.</summary>
    private static (uint Bucket, long RankWithin) Locate(long[] histogram, int offset, int length, long rank)
    {
        long below = 0;
        for (int b = 0; b < length; b++)
        {
            long count = histogram[offset + b];
            if (rank < below + count) return ((uint)b, rank - below);
            below += count;
        }
        throw new InvalidOperationException("the tensor's values changed between selection passes");
    }

    /// <summary>A tensor's keys as numbered chunks, read by a few threads at once, each with its own key buffer.</summary>
    private sealed class Chunks(long elementCount, int chunkElements, KeyReader readKeys, int parallelism, CancellationToken cancellation)
    {
        private long Count => (elementCount + chunkElements - 1) / chunkElements;

        private void Read(long chunk, uint[] buffer, out Span<uint> keys)
        {
            cancellation.ThrowIfCancellationRequested();
            long start = chunk * chunkElements;
            keys = buffer.AsSpan(0, (int)Math.Min(chunkElements, elementCount - start));
            readKeys(start, keys);
        }

        /// <summary>
        /// The histogram of the keys' high bits, and the packed (key, index) of every element the bands hold (one list
        /// per thread), unless they number more than <paramref name="maxCandidates"/>: then null, and the caller falls
        /// back to the later passes.
        /// </summary>
        public (long[] Histogram, List<Candidates>? Candidates) HistogramAndCandidates(int size, CandidateBands bands, int maxCandidates)
        {
            if (bands.IsEmpty) return (Histogram(size, (keys, histogram) => { foreach (var key in keys) histogram[key >> LowBits]++; }), null);
            var lists = new List<Candidates>();
            long collected = 0;
            var histogram = Histogram(size, () =>
            {
                var mine = new Candidates();
                lock (lists) lists.Add(mine);
                return (start, keys, counts) =>
                {
                    bool collecting = Volatile.Read(ref collected) <= maxCandidates;
                    long before = mine.Count;
                    for (int i = 0; i < keys.Length; i++)
                    {
                        uint key = keys[i];
                        counts[key >> LowBits]++;
                        if (collecting && bands.Holds(key)) mine.Add(Packed.Of(key, start + i));
                    }
                    // Past the bound every thread stops collecting and frees what it holds.
                    if (Interlocked.Add(ref collected, mine.Count - before) > maxCandidates) mine.Clear();
                };
            });
            if (collected <= maxCandidates) return (histogram, lists);
            foreach (var list in lists) list.Clear();
            return (histogram, null);
        }

        /// <summary>A histogram of <paramref name="size"/> counters filled by <paramref name="add"/> over every chunk (per thread, then summed).</summary>
        public long[] Histogram(int size, HistogramAdder add) => Histogram(size, () => (_, keys, histogram) => add(keys, histogram));

        /// <summary>A histogram filled over every chunk by one adder per thread (<paramref name="adderForThread"/>), per thread, then summed.</summary>
        private long[] Histogram(int size, Func<ChunkAdder> adderForThread)
        {
            var total = new long[size];
            RunOnThreads(worker =>
            {
                var add = adderForThread();
                var buffer = ScratchArrays<uint>.Rent(chunkElements);
                var mine = ScratchArrays<long>.Rent(size);
                try
                {
                    Array.Clear(mine, 0, size);
                    for (long chunk = worker; chunk < Count; chunk += parallelism)
                    {
                        Read(chunk, buffer, out var keys);
                        add(chunk * chunkElements, keys, mine);
                    }
                    lock (total)
                        for (int i = 0; i < size; i++) total[i] += mine[i];
                }
                finally
                {
                    ScratchArrays<uint>.Return(buffer);
                    ScratchArrays<long>.Return(mine);
                }
            });
            return total;
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

        private static long CountEqual(ReadOnlySpan<uint> keys, uint key)
        {
            long count = 0;
            foreach (var k in keys) if (k == key) count++;
            return count;
        }

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
            var threads = Enumerable.Range(1, workers - 1).Select(w => new Thread(() => Guarded(w)) { IsBackground = true }).ToList();
            foreach (var thread in threads) thread.Start();
            Guarded(0);
            foreach (var thread in threads) thread.Join();
            failure?.Throw();
        }
    }

    private delegate void HistogramAdder(ReadOnlySpan<uint> keys, long[] histogram);

    /// <summary>Adds the keys of the chunk starting at flat index <paramref name="start"/> to a thread's histogram.</summary>
    private delegate void ChunkAdder(long start, ReadOnlySpan<uint> keys, long[] histogram);
}
