namespace ChatVector.Core.LoraExport;

/// <summary>
/// How many singular directions of a weight's delta an adapter keeps: at most <see cref="MaxRank"/>, and, when
/// given, only those with a singular value of at least <see cref="Threshold"/>, or only as many as keep
/// <see cref="Energy"/> of the delta's squared Frobenius norm. Without a maximum every direction may be kept.
/// </summary>
public sealed record LoraRankRule(int? MaxRank, double? Threshold, double? Energy)
{
    /// <summary>Refuses a rule that cannot choose a rank (the message names the parameter as the user wrote it).</summary>
    public void Check()
    {
        if (MaxRank is null && Threshold is null && Energy is null)
            throw new ArgumentException("Give -Rank, -SingularValueThreshold or -KeepEnergy: nothing says how many directions of each weight to keep.");
        if (MaxRank is < 1) throw new ArgumentException($"-Rank {MaxRank} is not a rank: it must be 1 or more.");
        if (Threshold is { } t && (double.IsNaN(t) || t < 0 || double.IsInfinity(t)))
            throw new ArgumentException($"-SingularValueThreshold {t} must be a finite number of 0 or more.");
        if (Energy is { } e && (double.IsNaN(e) || e <= 0 || e > 1))
            throw new ArgumentException($"-KeepEnergy {e} must be a fraction above 0 and at most 1.");
    }

    /// <summary>The most directions a weight of <paramref name="rows"/> × <paramref name="columns"/> may keep.</summary>
    public int CapFor(long rows, long columns) => (int)Math.Min(MaxRank ?? int.MaxValue, Math.Min(rows, columns));

    /// <summary>
    /// The rank to keep from <paramref name="singularValues"/> (descending, at most the cap), given the delta's
    /// squared norm <paramref name="totalEnergy"/>. Zero when nothing qualifies (a zero delta, or all values under the threshold).
    /// </summary>
    public int Choose(ReadOnlySpan<float> singularValues, double totalEnergy)
    {
        int rank = singularValues.Length;
        if (Threshold is { } threshold)
        {
            int above = 0;
            while (above < rank && singularValues[above] >= threshold && singularValues[above] > 0) above++;
            rank = above;
        }
        else
        {
            while (rank > 0 && singularValues[rank - 1] <= 0) rank--;
        }
        if (Energy is { } fraction && totalEnergy > 0)
        {
            double kept = 0, wanted = fraction * totalEnergy;
            for (int i = 0; i < rank; i++)
            {
                kept += (double)singularValues[i] * singularValues[i];
                if (kept >= wanted) return i + 1;
            }
        }
        return rank;
    }
}
