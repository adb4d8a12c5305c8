using static TorchSharp.torch;

namespace ChatVector.Core.Inference;

/// <summary>Keys and values of the positions seen so far, per layer, so generation computes only the new token.</summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Positions already cached (the next token's position).</summary>
    public long Length { get; private set; }

    /// <summary>Appends this step's k, v (kv_heads, T, head_dim) for <paramref name="layer"/>; returns all of them.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var k = _keys[layer] is { } pastK ? cat([pastK, keys], 1) : keys.alias();
        var v = _values[layer] is { } pastV ? cat([pastV, values], 1) : values.alias();
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = k.DetachFromDisposeScope();
        _values[layer] = v.DetachFromDisposeScope();
        return (k.alias(), v.alias());
    }

    /// <summary>Called once all layers took a step of <paramref name="tokens"/> positions.</summary>
    internal void Advance(long tokens) => Length += tokens;

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
    }
}
