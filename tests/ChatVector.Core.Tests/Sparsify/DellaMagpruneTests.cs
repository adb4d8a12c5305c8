using ChatVector.Core.Sparsify;
using Xunit;
using static ChatVector.Core.Tests.Sparsify.SparsifyFixture;

namespace ChatVector.Core.Tests.Sparsify;

/// <summary>
/// DELLA's keep probabilities against mergekit's <c>della_magprune</c> (sparsify.py), computed here in float64 from its
/// definition: per row (a 1-D tensor is one row), ranks = argsort(argsort(|x|)) + 1, normalized by the row's least and
/// greatest rank, p = (density − ε) + rank_norm·2ε. Ties of magnitude are ranked by index (a stable argsort), which is
/// the order ChatVector states. Each kept element divided by its probability reveals the probability ChatVector used,
/// so over a few seeds every element's is seen, with no use of ChatVector's draws.
/// </summary>
public class DellaMagpruneTests
{
    [Theory]
    [InlineData(8, 64, 0.4, 0.15)]
    [InlineData(3, 257, 0.5, 0.3)]
    [InlineData(1, 300, 0.3, 0.1)] // a 1-D tensor: one row
    public void Della_keep_probabilities_are_della_magprunes_on_tied_magnitudes(int rows, int columns, double density, double epsilon)
    {
        var values = TiedMagnitudes(rows * columns, seed: rows + columns);
        long[] shape = rows == 1 ? [columns] : [rows, columns];
        var probabilities = MagpruneProbabilities(values, rows, columns, density, epsilon);

        var seen = new bool[values.Length];
        for (int seed = 1; seed <= 40; seed++)
        {
            var kept = ReadAll(Limit(values, Options(SparsifyMethod.Della, density, epsilon: epsilon, seed: seed), shape), chunk: columns * 2);
            for (int i = 0; i < values.Length; i++)
            {
                if (kept[i] == 0) continue;
                // Kept: x / p, in double, rounded once; the p of any other rank would differ by 2ε/(m − 1) of p.
                Assert.True(BitConverter.SingleToInt32Bits(kept[i]) == BitConverter.SingleToInt32Bits((float)(values[i] / probabilities[i])),
                    $"seed {seed}, element {i} (|x| {Math.Abs(values[i])}): kept as {kept[i]:R}, that is p = {values[i] / kept[i]:R}; della_magprune's p is {probabilities[i]:R}");
                seen[i] = true;
            }
        }
        int nonZero = values.Count(v => v != 0);
        Assert.True(seen.Count(s => s) >= 0.99 * nonZero, $"{seen.Count(s => s)} of {nonZero} non-zero elements kept at least once in 40 draws");
    }

    /// <summary>della_magprune's keep probabilities, float64: argsort of the magnitudes (stable), its argsort + 1, min-max normalized.</summary>
    private static double[] MagpruneProbabilities(float[] values, int rows, int columns, double density, double epsilon)
    {
        var probabilities = new double[values.Length];
        for (int r = 0; r < rows; r++)
        {
            var magnitudes = Enumerable.Range(0, columns).Select(j => Math.Abs((double)values[r * columns + j])).ToArray();
            var sortedIndices = Enumerable.Range(0, columns).OrderBy(j => magnitudes[j]).ThenBy(j => j).ToArray();
            var ranks = new double[columns];
            for (int position = 0; position < columns; position++) ranks[sortedIndices[position]] = position + 1; // argsort of the argsort
            double minRank = ranks.Min(), maxRank = ranks.Max();
            for (int j = 0; j < columns; j++)
            {
                double rankNorm = Math.Clamp((ranks[j] - minRank) / (maxRank - minRank), 0, 1);
                probabilities[r * columns + j] = (density - epsilon) + rankNorm * 2 * epsilon;
            }
        }
        return probabilities;
    }

    /// <summary>A bf16 chat vector's values at their most tied: a few magnitudes (0, 1, 2 or 3 steps of 2⁻⁸), both signs.</summary>
    private static float[] TiedMagnitudes(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => random.Next(4) / 256f * (random.Next(2) == 0 ? 1 : -1)).ToArray();
    }
}
