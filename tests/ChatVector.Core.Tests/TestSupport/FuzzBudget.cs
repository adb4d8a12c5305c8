namespace ChatVector.Core.Tests;

/// <summary>
/// How many cases each fuzz property runs: CHATVECTOR_FUZZ_ITERATIONS, default 2000 (a few seconds in CI);
/// e.g. 1000000 for a soak run of several minutes. A budget below <see cref="Floor"/> (0 included) is an
/// error, not a silent default: a fuzz that runs a handful of cases would pass without testing anything.
/// </summary>
internal static class FuzzBudget
{
    public const string EnvironmentVariable = "CHATVECTOR_FUZZ_ITERATIONS";
    public const long Default = 2000;
    public const long Floor = 100;

    public static long Iterations => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>Cases for a property that runs a fraction of the budget (never below the floor).</summary>
    public static long Fraction(long divisor) => Math.Max(Floor, Iterations / divisor);

    internal static long Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Default;
        if (!long.TryParse(text, out var n) || n < Floor)
            throw new InvalidOperationException(
                $"{EnvironmentVariable} is '{text}': give a whole number of at least {Floor} cases per fuzz property (default {Default}), or unset it.");
        return n;
    }
}
