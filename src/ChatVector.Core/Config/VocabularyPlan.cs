using ChatVector.Core.Tensors;

namespace ChatVector.Core.Config;

/// <summary>A model's vocabulary as a vocabulary merge sees it: token text to id, and how many rows its embedding has (ids at or past them have no row).</summary>
public sealed record ModelVocabulary(IReadOnlyDictionary<string, long> Tokens, long Rows)
{
    /// <summary>The model's row of <paramref name="token"/>, or null when it has none.</summary>
    public long? RowOf(string token) => Tokens.TryGetValue(token, out var id) && id >= 0 && id < Rows ? id : null;
}

/// <summary>A token's configured row (<c>tokenizer.tokens</c>), resolved to a model's row or zeros, and whether it replaces every model's own row.</summary>
public sealed record TokenRule(RowSource Row, bool Force);

/// <summary>
/// Which row each model's embedding (and LM head) contributes to each row of the output vocabulary, by mergekit's rules
/// (its <c>PermutedEmbeddings</c>): a model that has the token gives its own row, unless a configured token is forced;
/// a model that lacks it gets the token's default row: the configured source, else the one model's that has it, zeros
/// when none has it, the base's when the base has it, or the mean of the models that have it. Rows past the last token
/// (padding to a multiple) are the mean of the model's token rows.
/// </summary>
/// <param name="Rows">Per model (in the order given), the source of each output row.</param>
public sealed record VocabularyPlan(long OutputRows, IReadOnlyList<RowSource[]> Rows, IReadOnlyList<(int Input, long Row)[]> Averages)
{
    /// <param name="output">The output vocabulary: token text to id.</param>
    /// <param name="models">Each model's vocabulary; indexes in the plan are positions here.</param>
    /// <param name="baseIndex">The base model's position, or null when there is none.</param>
    public static VocabularyPlan Build(IReadOnlyDictionary<string, long> output, IReadOnlyList<ModelVocabulary> models, int? baseIndex,
        IReadOnlyDictionary<string, TokenRule> rules, int? padToMultipleOf)
    {
        long tokenRows = output.Count == 0 ? 0 : Math.Max(output.Count, output.Values.Max() + 1);
        long outputRows = padToMultipleOf is { } multiple && tokenRows % multiple != 0 ? (tokenRows / multiple + 1) * multiple : tokenRows;
        var rows = models.Select(_ => Enumerable.Repeat(RowSource.Mean, checked((int)outputRows)).ToArray()).ToList();
        var averages = new List<(int Input, long Row)[]>();
        var present = new List<(int Model, long Row)>(models.Count);
        foreach (var (token, id) in output)
        {
            present.Clear();
            for (int m = 0; m < models.Count; m++)
                if (models[m].RowOf(token) is { } row) present.Add((m, row));
            bool force = false;
            RowSource fallback;
            if (rules.TryGetValue(token, out var rule)) (fallback, force) = (rule.Row, rule.Force);
            else if (present.Count == 1) fallback = RowSource.Copy(present[0].Model, present[0].Row);
            else if (present.Count == 0) fallback = RowSource.Zero;
            else if (baseIndex is { } b && present.FindIndex(p => p.Model == b) is var at and >= 0) fallback = RowSource.Copy(b, present[at].Row);
            else
            {
                averages.Add([.. present]);
                fallback = RowSource.Average(averages.Count - 1);
            }
            for (int m = 0; m < models.Count; m++)
                rows[m][id] = !force && models[m].RowOf(token) is { } own ? RowSource.Copy(m, own) : fallback;
        }
        return new VocabularyPlan(outputRows, rows, averages);
    }
}
