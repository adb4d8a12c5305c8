using System.Collections.Concurrent;
using ChatVector.Core.Format;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Streaming;

/// <summary>
/// Produces the bytes of a sequence of tensors, in order, a chunk at a time, with the next chunks
/// (of this tensor or the following ones) read and computed on worker threads while the caller
/// writes the current one. This overlap is what keeps a merge near the speed of plain I/O; the
/// bounded window is what keeps its memory flat. Page-cache hints (<see cref="IPrefetchable"/>) ask for the next
/// tensors' stored bytes ahead and, when the inputs cannot stay cached, let a written tensor's pages go.
/// </summary>
public sealed class ChunkStream : IDisposable
{
    /// <summary>Sees each chunk's bytes on the worker thread that produced them (must be thread-safe).</summary>
    public delegate void ChunkObserver(ITensorSource source, ReadOnlySpan<byte> bytes);

    /// <summary>A byte range of the tensor at <c>SourceIndex</c> in write order.</summary>
    private readonly record struct Chunk(ITensorSource Source, int SourceIndex, long ByteOffset, int ByteLength);

    private readonly IEnumerator<Chunk> _chunks;
    private readonly Queue<(Chunk Chunk, Task<byte[]> Bytes)> _inFlight = new();
    private readonly ConcurrentBag<byte[]> _buffers = new();
    private readonly StreamingOptions _options;
    private readonly ComputeContext _context;
    private readonly ChunkObserver? _observer;
    private readonly IReadOnlyList<ITensorSource> _sources;
    private readonly List<Task> _preparing = new();
    /// <summary>Inputs held in memory per tensor index (<see cref="Prefetching.HoldIfReread"/>), let go once the tensor is written.</summary>
    private readonly Dictionary<int, Task<IDisposable?>> _held = new();
    /// <summary>Per tensor index whose inputs were asked to be held: completed once they are let go (or the stream ends).</summary>
    private readonly Dictionary<int, TaskCompletionSource> _letGo = new();
    private volatile bool _ending;
    /// <summary>The inputs exceed the memory that could cache them: a written tensor's input pages are let go at once.</summary>
    private readonly bool _dropBehind;

    public ChunkStream(IEnumerable<ITensorSource> sourcesInWriteOrder, StreamingOptions options, ComputeContext context, ChunkObserver? observer = null)
    {
        _options = options;
        _context = context;
        _observer = observer;
        _sources = sourcesInWriteOrder.ToList();
        _dropBehind = Prefetching.ShouldDropBehind(_sources);
        _chunks = Split(_sources, options.ChunkBytes).GetEnumerator();
        Refill();
    }

    /// <summary>Writes every byte of <paramref name="source"/>, which must be the next tensor of the sequence.</summary>
    public void CopyNextTo(ITensorSource source, Stream output, Action<long>? onBytesWritten = null)
    {
        long remaining = source.ByteLength;
        while (remaining > 0)
        {
            _context.Cancellation.ThrowIfCancellationRequested();
            if (!_inFlight.TryDequeue(out var next))
                throw new InvalidOperationException($"'{source.Name}' was asked for after the last tensor of the stream");
            if (!ReferenceEquals(next.Chunk.Source, source))
                throw new InvalidOperationException($"'{source.Name}' was asked for out of order; '{next.Chunk.Source.Name}' is next");
            var buffer = next.Bytes.GetAwaiter().GetResult(); // rethrows the worker's own exception
            try
            {
                output.Write(buffer, 0, next.Chunk.ByteLength);
            }
            finally
            {
                _buffers.Add(buffer);
            }
            remaining -= next.Chunk.ByteLength;
            onBytesWritten?.Invoke(next.Chunk.ByteLength);
            Refill();
        }
        LetGoOf(source);
        if (_dropBehind) _preparing.Add(Task.Run(() => Prefetching.DropCached([source])));
    }

    /// <summary>Releases the inputs held for a written tensor (once their reading is over, if it is still going on).</summary>
    private void LetGoOf(ITensorSource written)
    {
        int index = IndexOf(written);
        if (index < 0 || !_held.Remove(index, out var held)) return;
        var letGo = _letGo[index];
        _letGo.Remove(index);
        held.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully) t.Result?.Dispose();
            letGo.TrySetResult();
        }, TaskScheduler.Default);
    }

    private int IndexOf(ITensorSource source)
    {
        foreach (var (index, _) in _held)
            if (ReferenceEquals(_sources[index], source)) return index;
        return -1;
    }

    private void Refill()
    {
        while (_inFlight.Count < _options.Parallelism + 1 && !_context.Cancellation.IsCancellationRequested && _chunks.MoveNext())
        {
            var chunk = _chunks.Current;
            if (chunk.ByteOffset == 0) PrecomputeAfter(chunk.SourceIndex);
            // A tensor's chunks start once its inputs are held (when they are): started earlier, they read from the files
            // what the hold was reading at the same time.
            var produced = _held.TryGetValue(chunk.SourceIndex, out var held) && !held.IsCompleted
                ? held.ContinueWith(_ => Produce(chunk), TaskScheduler.Default)
                : Task.Run(() => Produce(chunk));
            _inFlight.Enqueue((chunk, produced));
        }
    }

    /// <summary>
    /// When a tensor's first chunk is queued, the two tensors after it are prefetched (<see cref="IPrefetchable"/>: their
    /// stored bytes start coming from disk) and the next one starts its up-front work (<see cref="IPrecomputed"/>) on its
    /// own task, so a selection pass overlaps the writing of this tensor. A failure there is not reported: the
    /// tensor's first chunk does the work again and reports it.
    /// </summary>
    private void PrecomputeAfter(int sourceIndex)
    {
        _preparing.RemoveAll(t => t.IsCompleted);
        // On a task of its own: asking for hundreds of MB can wait on the disk's queue, which must not stall the writer.
        var ahead = _sources.Skip(sourceIndex == 0 ? 0 : sourceIndex + 1).Take(sourceIndex == 0 ? 3 : 2).ToList();
        _preparing.Add(Task.Run(() => Prefetching.Prefetch(ahead)));
        if (sourceIndex == 0) Hold(0).Wait(); // before the first chunk reads anything
        int next = sourceIndex + 1;
        if (next >= _sources.Count) return;
        var held = Hold(next);
        if (_sources[next] is not IPrecomputed preparable) return;
        _preparing.Add(held.ContinueWith(_ =>
        {
            try { preparable.Precompute(_context); }
            catch (Exception) { /* reported by the tensor's own first chunk */ }
        }, TaskScheduler.Default));
    }

    /// <summary>
    /// Starts holding the inputs of the tensor at <paramref name="index"/> in memory when it reads them more than once,
    /// on a task (hundreds of MB may come from disk). Holds are taken in write order, after the previous tensor's, so
    /// the tensor needed sooner has its room first. This one is asked for when the tensor before it starts, while the
    /// last chunks of the one before that may still be written with their inputs held: what does not fit then is held
    /// once that tensor lets go of its own (three MLP tensors' inputs do not fit where two do: held at once, the third's
    /// would come from the files, and a merge would read many of its inputs twice). A failure holds nothing: the chunks then
    /// read the files, and report the failure themselves.
    /// </summary>
    private Task<IDisposable?> Hold(int index)
    {
        var earlierLetGo = _letGo.TryGetValue(index - 2, out var earlier) ? earlier.Task : null;
        var previousHold = _held.TryGetValue(index - 1, out var previous) ? previous : Task.CompletedTask;
        _letGo[index] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = Task.Run(async () =>
        {
            IDisposable? first = null;
            try
            {
                await previousHold.ConfigureAwait(false); // in write order: the tensor needed sooner has its room first
                first = Prefetching.HoldIfReread(_sources[index], out bool complete, _context.Cancellation);
                if (complete || earlierLetGo is null) return first;
                await earlierLetGo.ConfigureAwait(false);
                if (_ending) return first;
                var all = Prefetching.HoldIfReread(_sources[index], out _, _context.Cancellation); // shares what the first holds
                first?.Dispose();
                return all;
            }
            catch (Exception)
            {
                first?.Dispose();
                return null;
            }
        });
        _held[index] = held;
        return held;
    }

    private byte[] Produce(Chunk chunk)
    {
        _context.Cancellation.ThrowIfCancellationRequested();
        if (!_buffers.TryTake(out var buffer)) buffer = GC.AllocateUninitializedArray<byte>(_options.ChunkBytes);
        try
        {
            chunk.Source.CopyBytes(chunk.ByteOffset, buffer.AsSpan(0, chunk.ByteLength), _context);
            _observer?.Invoke(chunk.Source, buffer.AsSpan(0, chunk.ByteLength));
            return buffer;
        }
        catch
        {
            _buffers.Add(buffer);
            throw;
        }
    }

    /// <summary>Chunks aligned to whole elements, so computed sources can produce each one alone.</summary>
    private static IEnumerable<Chunk> Split(IReadOnlyList<ITensorSource> sources, int chunkBytes)
    {
        for (int index = 0; index < sources.Count; index++)
        {
            var source = sources[index];
            int elementBytes = Math.Max(1, source.DType.Bits() / 8);
            int step = Math.Max(elementBytes, chunkBytes / elementBytes * elementBytes);
            for (long offset = 0; offset < source.ByteLength; offset += step)
                yield return new Chunk(source, index, offset, (int)Math.Min(step, source.ByteLength - offset));
        }
    }

    /// <summary>Waits for chunks still being produced so no worker outlives the stream (or the files it reads).</summary>
    public void Dispose()
    {
        // Holds still waiting for an earlier tensor to let go (and the chunks waiting for them) end now, holding no more.
        _ending = true;
        foreach (var letGo in _letGo.Values) letGo.TrySetResult();
        foreach (var (_, bytes) in _inFlight)
        {
            try { bytes.Wait(); } catch (AggregateException) { /* the failure was or will be reported by the consumer */ }
        }
        _inFlight.Clear();
        foreach (var task in _preparing) task.Wait(); // never throws: failures are caught inside
        _preparing.Clear();
        foreach (var held in _held.Values) held.Result?.Dispose(); // never throws either
        _held.Clear();
        IO.ResidentTensors.ReleaseSpare();
        _chunks.Dispose();
    }
}
