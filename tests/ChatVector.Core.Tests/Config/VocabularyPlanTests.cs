using ChatVector.Core.Config;
using ChatVector.Core.Tensors;
using Xunit;

namespace ChatVector.Core.Tests.Config;

/// <summary>
/// Which row each model gives each output token, against mergekit's rules written out by hand for one small case that
/// meets every rule: own rows, the base's row, the only model's row, the mean of the models that have it, zeros, a
/// forced configured row, ids past a model's rows, and padding rows.
/// </summary>
public sealed class VocabularyPlanTests
{
    private static Dictionary<string, long> Vocab(params string[] tokens) =>
        tokens.Select((t, i) => (t, i)).Where(x => x.t != "-").ToDictionary(x => x.t, x => (long)x.i, StringComparer.Ordinal);

    // base: a b c; m1: a c d e; m2: b d f - - g (g at id 5, past m2's 3 rows: m2 has no row for it).
    private static readonly ModelVocabulary Base = new(Vocab("a", "b", "c"), 3);
    private static readonly ModelVocabulary M1 = new(Vocab("a", "c", "d", "e"), 4);
    private static readonly ModelVocabulary M2 = new(Vocab("b", "d", "f", "-", "-", "g"), 3);
    private static readonly Dictionary<string, long> Output = Vocab("a", "b", "c", "d", "e", "f", "g", "h");

    [Fact]
    public void Each_model_gives_its_own_row_and_a_missing_token_gets_the_rule_s_default()
    {
        var rules = new Dictionary<string, TokenRule>
        {
            ["f"] = new(RowSource.Copy(1, 0), Force: true), // m1's row of 'a', for every model although m2 has 'f'
            ["h"] = new(RowSource.Zero, Force: false),
        };
        var plan = VocabularyPlan.Build(Output, [Base, M1, M2], baseIndex: 0, rules, padToMultipleOf: 5);

        Assert.Equal(10, plan.OutputRows); // 8 tokens padded to 10
        var c = RowSource.Copy;
        RowSource[] expectedBase = [c(0, 0), c(0, 1), c(0, 2), RowSource.Average(0), c(1, 3), c(1, 0), RowSource.Zero, RowSource.Zero, RowSource.Mean, RowSource.Mean];
        RowSource[] expectedM1 = [c(1, 0), c(0, 1), c(1, 1), c(1, 2), c(1, 3), c(1, 0), RowSource.Zero, RowSource.Zero, RowSource.Mean, RowSource.Mean];
        RowSource[] expectedM2 = [c(0, 0), c(2, 0), c(0, 2), c(2, 1), c(1, 3), c(1, 0), RowSource.Zero, RowSource.Zero, RowSource.Mean, RowSource.Mean];
        Assert.Equal(expectedBase, plan.Rows[0]);
        Assert.Equal(expectedM1, plan.Rows[1]);
        Assert.Equal(expectedM2, plan.Rows[2]);
        // 'd' is in m1 and m2 but not the base: the base's row is their mean.
        Assert.Equal([(1, 2L), (2, 1L)], plan.Averages.Single());
    }

    [Fact]
    public void Without_a_base_a_token_of_several_models_is_their_mean_and_an_unforced_rule_keeps_own_rows()
    {
        var rules = new Dictionary<string, TokenRule> { ["f"] = new(RowSource.Copy(1, 3), Force: false) };
        var plan = VocabularyPlan.Build(Output, [M1, M2], baseIndex: null, rules, padToMultipleOf: null);

        Assert.Equal(8, plan.OutputRows);
        // 'c' (m1 only), 'a' (m1 only), 'b' (m2 only), 'd' (both: each its own), 'f' (m2's own; m1 takes the rule's row).
        Assert.Equal(RowSource.Copy(0, 0), plan.Rows[1][0]);
        Assert.Equal(RowSource.Copy(1, 0), plan.Rows[0][1]);
        Assert.Equal(RowSource.Copy(0, 2), plan.Rows[0][3]);
        Assert.Equal(RowSource.Copy(1, 1), plan.Rows[1][3]);
        Assert.Equal(RowSource.Copy(1, 3), plan.Rows[0][5]);
        Assert.Equal(RowSource.Copy(1, 2), plan.Rows[1][5]);
        // Both models have 'd', so neither takes the mean of it.
        Assert.DoesNotContain(plan.Rows.SelectMany(r => r), r => r.Kind == RowKind.Average);
    }

    [Fact]
    public void A_token_in_two_models_and_neither_the_base_is_averaged_from_both_for_the_models_that_lack_it()
    {
        var output = Vocab("x", "y");
        var plan = VocabularyPlan.Build(output, [new(Vocab("x"), 1), new(Vocab("x", "y"), 2), new(Vocab("y"), 1)], baseIndex: 0,
            new Dictionary<string, TokenRule>(), padToMultipleOf: 2);
        Assert.Equal(2, plan.OutputRows);
        Assert.Equal(RowSource.Average(0), plan.Rows[0][1]);
        Assert.Equal([(1, 1L), (2, 0L)], plan.Averages[0]);
        // 'x' is the base's: the model without it (the third) takes the base's row.
        Assert.Equal(RowSource.Copy(0, 0), plan.Rows[2][0]);
    }
}
