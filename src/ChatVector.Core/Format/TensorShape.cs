namespace ChatVector.Core.Format;

/// <summary>The one definition of a shape's element count, used by every tensor type (file entries, declarations, sources).</summary>
public static class TensorShape
{
    /// <summary>The product of the dimensions (1 for a scalar). Throws <see cref="OverflowException"/> past 64 bits.</summary>
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (var dim in shape) count = checked(count * dim);
        return count;
    }
}
