using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary><see cref="ColumnSums"/> against each column summed row after row one double at a time, bit for bit.</summary>
public class ColumnSumsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(5, 4)]
    [InlineData(33, 4099)]
    public void Each_column_is_summed_in_row_order(int rows, int width)
    {
        var random = new Random(rows * 31 + width);
        var values = Enumerable.Range(0, rows * width).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 30))).ToArray();
        var start = Enumerable.Range(0, width).Select(_ => random.NextDouble()).ToArray();
        var totals = start.ToArray();
        ColumnSums.AddRows(values, totals);
        for (int j = 0; j < width; j++)
        {
            double expected = start[j];
            for (int r = 0; r < rows; r++) expected += values[r * width + j];
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(totals[j]));
        }
    }

    [Fact]
    public void Values_that_are_not_whole_rows_are_refused() =>
        Assert.Throws<ArgumentException>(() => ColumnSums.AddRows(new double[7], new double[3]));
}
