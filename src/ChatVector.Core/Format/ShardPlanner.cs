namespace ChatVector.Core.Format;

/// <summary>One output file of a sharded model and the tensors it holds, in arrival order.</summary>
public sealed record ShardPlan(string FileName, IReadOnlyList<TensorLayout> Tensors)
{
    public long ByteLength => Tensors.Sum(t => t.ByteLength);
}

/// <summary>Greedy split of tensors, in arrival order, into shards under a byte budget (as transformers does).</summary>
public static class ShardPlanner
{
    /// <summary>
    /// A tensor that would push the current shard past <paramref name="maxShardBytes"/> starts a new one;
    /// a tensor larger than the budget gets a shard alone. One shard is named <c>model.safetensors</c>,
    /// several <c>model-00001-of-0000N.safetensors</c>.
    /// </summary>
    public static IReadOnlyList<ShardPlan> Plan(IReadOnlyList<TensorLayout> tensors, long maxShardBytes) =>
        throw new NotImplementedException();
}

/// <summary>Byte-size strings as transformers takes them: decimal units (5GB = 5e9), binary with "i" (2GiB).</summary>
public static class ByteSize
{
    public const long DefaultShardSize = 5_000_000_000;

    /// <summary>"5GB", "500MB", "2GiB", "1.5GB", "123" (bytes). Throws <see cref="FormatException"/> with the text.</summary>
    public static long Parse(string text) => throw new NotImplementedException();

    public static string Format(long bytes) => throw new NotImplementedException();
}
