using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ChatVector.Core.Kernels;

/// <summary>
/// Column sums of a block of rows, added to running totals one row after another: each column's sum in row order, so
/// the same bits on every CPU (the vector lanes are columns and never meet).
/// </summary>
public static class ColumnSums
{
    /// <summary>totals[j] += rows[r·width + j] for each row r in order, width = totals.Length.</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public static void AddRows(ReadOnlySpan<double> rows, Span<double> totals)
    {
        int width = totals.Length;
        if (width == 0 || rows.Length % width != 0)
            throw new ArgumentException($"{rows.Length} values are not whole rows of {width}.", nameof(rows));
        ref double total = ref MemoryMarshal.GetReference(totals);
        for (int start = 0; start < rows.Length; start += width)
        {
            ref double row = ref MemoryMarshal.GetReference(rows.Slice(start, width));
            int j = 0;
            for (; j + Vector256<double>.Count <= width; j += Vector256<double>.Count)
                (Vector256.LoadUnsafe(ref total, (nuint)j) + Vector256.LoadUnsafe(ref row, (nuint)j)).StoreUnsafe(ref total, (nuint)j);
            for (; j < width; j++) totals[j] += rows[start + j];
        }
    }
}
