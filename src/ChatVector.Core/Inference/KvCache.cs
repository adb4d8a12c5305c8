using static TorchSharp.torch;

namespace ChatVector.Core.Inference;

/// <summary>
/// Keys and values of the positions seen so far, per layer, so generation computes only the new token. Each
/// layer's storage is allocated once for <see cref="Capacity"/> positions and filled in place: growing it by
/// concatenation each step left a trail of freed, slightly smaller blocks in the heap, and generation's peak
/// grew with every token.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    /// <param name="capacity">The most positions the cache will hold (prompt plus generated tokens).</param>
    public KvCache(int layers, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        Capacity = capacity;
    }

    public long Capacity { get; }

    /// <summary>Positions already cached (the next token's position).</summary>
    public long Length { get; private set; }

    /// <summary>Appends this step's k, v (kv_heads, T, head_dim) for <paramref name="layer"/>; returns all of them (views of the cache).</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        long tokens = keys.shape[1];
        if (Length + tokens > Capacity)
            throw new InvalidOperationException($"the KV cache holds {Capacity} positions; {Length + tokens} were asked for");
        return (Store(_keys, layer, keys), Store(_values, layer, values));
    }

    private Tensor Store(Tensor?[] storage, int layer, Tensor step)
    {
        var all = storage[layer] ??= empty([step.shape[0], Capacity, step.shape[2]], step.dtype, step.device).DetachFromDisposeScope();
        using (var slot = all.narrow(1, Length, step.shape[1])) slot.copy_(step);
        return all.narrow(1, 0, Length + step.shape[1]);
    }

    /// <summary>Called once all layers took a step of <paramref name="tokens"/> positions.</summary>
    internal void Advance(long tokens) => Length += tokens;

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
    }
}
