namespace ChatVector.Core.Format;

/// <summary>One output file of a sharded model and the tensors it holds, in arrival order.</summary>
public sealed record ShardAssignment(string FileName, IReadOnlyList<TensorDeclaration> Tensors)
{
    public long ByteLength => Tensors.Sum(t => t.ByteLength);
}

/// <summary>Greedy split of tensors, in arrival order, into shards under a byte budget (as transformers does).</summary>
public static class ShardPacker
{
    public const string SingleFileName = "model.safetensors";

    /// <summary>
    /// A tensor that would push the current shard past <paramref name="maxShardBytes"/> starts a new one;
    /// a tensor larger than the budget gets a shard alone. One shard is named <c>model.safetensors</c>,
    /// several <c>model-00001-of-0000N.safetensors</c>.
    /// </summary>
    public static IReadOnlyList<ShardAssignment> Pack(IReadOnlyList<TensorDeclaration> tensors, long maxShardBytes)
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes), "the shard size must be positive");
        var groups = new List<List<TensorDeclaration>> { new() };
        long current = 0;
        foreach (var tensor in tensors)
        {
            if (groups[^1].Count > 0 && current + tensor.ByteLength > maxShardBytes)
            {
                groups.Add([]);
                current = 0;
            }
            groups[^1].Add(tensor);
            current += tensor.ByteLength;
        }
        if (groups.Count == 1) return [new ShardAssignment(SingleFileName, groups[0])];
        return groups.Select((g, i) => new ShardAssignment($"model-{i + 1:D5}-of-{groups.Count:D5}.safetensors", g)).ToList();
    }
}
