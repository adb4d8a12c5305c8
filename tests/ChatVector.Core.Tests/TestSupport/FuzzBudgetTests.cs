using Xunit;

namespace ChatVector.Core.Tests;

public sealed class FuzzBudgetTests
{
    [Theory]
    [InlineData(null, FuzzBudget.Default)]
    [InlineData("", FuzzBudget.Default)]
    [InlineData("100", 100L)]
    [InlineData("1000000", 1_000_000L)]
    public void A_budget_is_the_default_or_at_least_the_floor(string? text, long expected) => Assert.Equal(expected, FuzzBudget.Parse(text));

    [Theory]
    [InlineData("0")]
    [InlineData("99")]
    [InlineData("-5")]
    [InlineData("lots")]
    public void A_budget_below_the_floor_or_not_a_number_is_an_error(string text) =>
        Assert.Contains(FuzzBudget.EnvironmentVariable, Assert.Throws<InvalidOperationException>(() => FuzzBudget.Parse(text)).Message);
}
