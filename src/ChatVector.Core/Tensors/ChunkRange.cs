using ChatVector.Core.Format;

namespace ChatVector.Core.Tensors;

/// <summary>Argument checks and range arithmetic shared by the tensor sources.</summary>
public static class ChunkRange
{
    public static void Check(ITensorSource source, long firstElement, long count)
    {
        if (firstElement < 0 || count < 0 || firstElement + count > source.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(firstElement),
                $"elements [{firstElement}, {firstElement + count}) outside tensor '{source.Name}' of {source.ElementCount} elements");
        if (source.DType.Bits() % 8 != 0)
            throw new NotSupportedException($"Tensor '{source.Name}' has sub-byte dtype {source.DType}; it can be copied but not computed with.");
    }

    /// <summary>The overlap of [aStart, aEnd) and [bStart, bEnd), or null when empty.</summary>
    public static (long Start, long End)? Intersect(long aStart, long aEnd, long bStart, long bEnd)
    {
        long start = Math.Max(aStart, bStart), end = Math.Min(aEnd, bEnd);
        return start < end ? (start, end) : null;
    }
}
