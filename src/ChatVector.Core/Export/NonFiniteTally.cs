using System.Collections.Concurrent;
using ChatVector.Core.Integrity;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Export;

/// <summary>A computed tensor that came out with NaN or Inf values (a NaN ratio, an overflow when rounding to F16...).</summary>
public sealed record NonFiniteTensor(string Name, string DType, long NaN, long Inf)
{
    public override string ToString() => $"'{Name}' ({DType}): {NaN} NaN, {Inf} Inf";
}

/// <summary>
/// Counts NaN and Inf in computed tensors as their chunks are produced (on the worker threads, from the
/// bytes about to be written, so it costs no second pass). Stored tensors are copied as they are and not
/// counted: what an input holds is the input's business (<c>Test-SafeTensor -Data</c> reports it).
/// </summary>
internal sealed class NonFiniteTally
{
    private readonly ConcurrentDictionary<ITensorSource, StrongBox> _counts = new(ReferenceEqualityComparer.Instance);

    private sealed class StrongBox
    {
        public long NaN;
        public long Inf;
    }

    /// <summary>Called with each chunk's bytes; thread-safe.</summary>
    public void Observe(ITensorSource source, ReadOnlySpan<byte> bytes)
    {
        if (source is not ComputedTensorSource || !NonFiniteCounter.Supports(source.DType)) return;
        var (nan, inf) = NonFiniteCounter.Count(source.DType, bytes);
        if (nan + inf == 0) return;
        var box = _counts.GetOrAdd(source, _ => new StrongBox());
        Interlocked.Add(ref box.NaN, nan);
        Interlocked.Add(ref box.Inf, inf);
    }

    /// <summary>The counts of a tensor whose chunks have all been produced; null when every value was finite.</summary>
    public NonFiniteTensor? For(ITensorSource source) =>
        _counts.TryGetValue(source, out var box) ? new NonFiniteTensor(source.Name, source.DType.ToString(), box.NaN, box.Inf) : null;
}
