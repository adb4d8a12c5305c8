using ChatVector.Core.Format;
using ChatVector.Core.Streaming;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Streaming;

/// <summary>ChunkStream: bytes in order, at most Parallelism + 1 chunks ahead, cancellation, a worker's own exception.</summary>
public sealed class ChunkStreamTests
{
    /// <summary>A tensor whose byte i is (seed + i) mod 251; counts and can hold back the chunks asked of it.</summary>
    private sealed class PatternSource(string name, DType dtype, long elements, int seed) : ITensorSource
    {
        public string Name => name;
        public DType DType => dtype;
        public long[] Shape => [elements];
        public long ElementCount => elements;
        public long ByteLength => elements * dtype.Bits() / 8;

        public int Started;
        public int Running;
        public TimeSpan Delay { get; init; }
        public ManualResetEventSlim Gate { get; } = new(initialState: true);
        public Func<long, Exception?> FailAt { get; init; } = _ => null;
        public List<(long Offset, int Length)> Requests { get; } = [];

        public byte[] Expected() => Enumerable.Range(0, (int)ByteLength).Select(i => (byte)((seed + i) % 251)).ToArray();

        public torch.Tensor ReadChunk(long firstElement, long count, ComputeContext context) => throw new NotSupportedException("bytes only");

        public void CopyBytes(long byteOffset, Span<byte> destination, ComputeContext context)
        {
            Interlocked.Increment(ref Started);
            Interlocked.Increment(ref Running);
            try
            {
                lock (Requests) Requests.Add((byteOffset, destination.Length));
                Gate.Wait(TimeSpan.FromSeconds(10));
                Thread.Sleep(Delay);
                if (FailAt(byteOffset) is { } failure) throw failure;
                for (int i = 0; i < destination.Length; i++) destination[i] = (byte)((seed + byteOffset + i) % 251);
            }
            finally
            {
                Interlocked.Decrement(ref Running);
            }
        }
    }

    private static readonly StreamingOptions Small = new(ChunkBytes: 16, Parallelism: 2);

    private static bool Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline) Thread.Sleep(5);
        return condition();
    }

    [Fact]
    public void Writes_every_tensor_in_order_in_chunks_of_whole_elements_and_reports_progress()
    {
        PatternSource[] sources = [new("a", DType.F32, 11, 1), new("empty", DType.F32, 0, 2), new("b", DType.U8, 33, 3), new("c", DType.F64, 5, 4)];
        using var output = new MemoryStream();
        long progress = 0;
        using (var stream = new ChunkStream(sources, new StreamingOptions(ChunkBytes: 10, Parallelism: 3), ComputeContext.Cpu()))
            foreach (var source in sources) stream.CopyNextTo(source, output, n => progress += n);

        Assert.Equal(sources.SelectMany(s => s.Expected()), output.ToArray());
        Assert.Equal(output.Length, progress);
        Assert.All(sources[0].Requests, r => Assert.True(r.Offset % 4 == 0 && r.Length % 4 == 0 && r.Length <= 10, $"{r}")); // F32: 8-byte chunks
        Assert.All(sources[3].Requests, r => Assert.Equal(8, r.Length)); // F64: one element fits a 10-byte chunk
        Assert.Empty(sources[1].Requests);
    }

    [Fact]
    public void At_most_parallelism_plus_one_chunks_are_produced_ahead_of_the_writer()
    {
        var source = new PatternSource("big", DType.U8, 16 * 50, 7);
        source.Gate.Reset(); // workers block: nothing completes until released
        using var stream = new ChunkStream([source], Small, ComputeContext.Cpu());
        Assert.True(Eventually(() => Volatile.Read(ref source.Started) == Small.Parallelism + 1));
        Thread.Sleep(100);
        Assert.Equal(Small.Parallelism + 1, Volatile.Read(ref source.Started));

        source.Gate.Set();
        using var output = new MemoryStream();
        stream.CopyNextTo(source, output);
        Assert.Equal(source.Expected(), output.ToArray());
        Assert.Equal(50, source.Requests.Count);
    }

    [Fact]
    public void A_tensor_asked_for_out_of_order_or_past_the_end_is_refused_by_name()
    {
        PatternSource a = new("a", DType.U8, 4, 1), b = new("b", DType.U8, 4, 2);
        using var stream = new ChunkStream([a, b], Small, ComputeContext.Cpu());
        var outOfOrder = Assert.Throws<InvalidOperationException>(() => stream.CopyNextTo(b, Stream.Null));
        Assert.Contains("'b'", outOfOrder.Message);
        Assert.Contains("'a' is next", outOfOrder.Message);

        using var late = new ChunkStream([a], Small, ComputeContext.Cpu());
        late.CopyNextTo(a, Stream.Null);
        Assert.Contains("after the last tensor", Assert.Throws<InvalidOperationException>(() => late.CopyNextTo(b, Stream.Null)).Message);
    }

    [Fact]
    public void A_workers_exception_reaches_the_writer_as_itself_and_dispose_waits_for_the_others()
    {
        var source = new PatternSource("t", DType.U8, 16 * 10, 1)
        {
            FailAt = offset => offset == 0 ? new IOException("disk gone") : null,
            Delay = TimeSpan.FromMilliseconds(50), // the chunks behind the failing one are still running when it fails
        };
        var stream = new ChunkStream([source], Small, ComputeContext.Cpu());
        var error = Assert.Throws<IOException>(() => stream.CopyNextTo(source, Stream.Null));
        Assert.Equal("disk gone", error.Message);

        stream.Dispose();
        Assert.Equal(0, Volatile.Read(ref source.Running)); // no worker outlives the stream (or the files it reads)
        int started = Volatile.Read(ref source.Started);
        Thread.Sleep(50);
        Assert.Equal(started, Volatile.Read(ref source.Started));
    }

    [Fact]
    public void Cancellation_stops_the_writer_and_starts_no_more_chunks()
    {
        using var cancellation = new CancellationTokenSource();
        var source = new PatternSource("t", DType.U8, 16 * 20, 1);
        using var stream = new ChunkStream([source], Small, ComputeContext.Cpu(cancellation.Token));
        Assert.True(Eventually(() => Volatile.Read(ref source.Started) == Small.Parallelism + 1));
        cancellation.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => stream.CopyNextTo(source, Stream.Null));
        Assert.Equal(Small.Parallelism + 1, Volatile.Read(ref source.Started));
    }
}
