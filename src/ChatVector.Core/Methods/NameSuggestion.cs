namespace ChatVector.Core.Methods;

/// <summary>"; did you mean 'ties'?" for a misspelt name: the valid name at the smallest edit distance, when close.</summary>
public static class NameSuggestion
{
    public static string Phrase(string given, IEnumerable<string> valid)
    {
        var nearest = Nearest(given, valid);
        return nearest is null ? "" : $"; did you mean '{nearest}'?";
    }

    /// <summary>The nearest valid name within a third of the given name's length (at least 2 edits), or null.</summary>
    public static string? Nearest(string given, IEnumerable<string> valid)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var name in valid)
        {
            int distance = Distance(given.ToLowerInvariant(), name.ToLowerInvariant());
            if (distance < bestDistance) (best, bestDistance) = (name, distance);
        }
        return bestDistance <= Math.Max(2, given.Length / 3) ? best : null;
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions), two rows at a time.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
