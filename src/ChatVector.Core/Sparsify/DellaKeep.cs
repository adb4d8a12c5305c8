namespace ChatVector.Core.Sparsify;

/// <summary>
/// DELLA's keep rule, one row (the last dimension) at a time: the row's m elements are ranked 1..m by the
/// magnitude order, and element j stays with probability p = (density − ε) + 2ε·(rank − 1)/(m − 1)
/// (p = density when m = 1), its draw taken from <see cref="CounterRandom"/> at its flat index.
/// </summary>
public static class DellaKeep
{
    /// <summary>Each element's keep probability for one row, given the row's values.</summary>
    public static double[] Probabilities(ReadOnlySpan<double> row, double density, double epsilon)
    {
        int m = row.Length;
        var probabilities = new double[m];
        if (m == 1)
        {
            probabilities[0] = density;
            return probabilities;
        }
        // Key in the high half, position in the row in the low half: sorting these longs is the total order.
        var order = new ulong[m];
        for (int i = 0; i < m; i++) order[i] = ((ulong)MagnitudeOrder.Key(row[i]) << 32) | (uint)i;
        Array.Sort(order);
        for (int rank = 1; rank <= m; rank++)
            probabilities[(int)(uint)order[rank - 1]] = (density - epsilon) + 2 * epsilon * (rank - 1) / (m - 1);
        return probabilities;
    }
}
