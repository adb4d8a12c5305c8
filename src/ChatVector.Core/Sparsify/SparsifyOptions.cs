using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Sparsify;

/// <summary>Which elements of a vector tensor a sparsification keeps (see each rule's class).</summary>
public enum SparsifyMethod
{
    /// <summary>The TIES trim: the ⌊density·n⌋ largest magnitudes (<see cref="OrderWindow"/>).</summary>
    Magnitude,
    /// <summary>DARE: each element independently with probability density (<see cref="RandomDrop"/>).</summary>
    Random,
    /// <summary>Model Breadcrumbs: drop the largest gamma·n and the smallest, keep density·n (<see cref="OrderWindow"/>).</summary>
    Breadcrumbs,
    /// <summary>DELLA: per row, probability rising with magnitude rank (<see cref="DellaDrop"/>).</summary>
    Della,
}

/// <summary>How a rescaling sparsification scales the elements it keeps.</summary>
public enum RescaleNorm
{
    /// <summary>Each kept element divided by its keep probability: the density (DARE's paper, PEFT), or DELLA's p.</summary>
    Density,
    /// <summary>
    /// Every kept element multiplied by ‖v‖₁ / ‖kept‖₁, so that the kept values' L1 norm is the vector's (mergekit's
    /// <c>RescaleNorm.l1</c>); unchanged when either norm is below 1e-7.
    /// </summary>
    L1,
}

/// <summary>
/// One tensor's sparsification: the rule and its parameters. <see cref="Rescale"/> scales the kept elements back up, by
/// <see cref="Norm"/>; it is on by default for the random rules only.
/// </summary>
/// <param name="Stream">For the random rules, the vector's place among the vectors sparsified together (the models of one
/// merge): each draws its own mask, as mergekit does per model.</param>
public sealed record SparsifyOptions(SparsifyMethod Method, double Density, double Gamma, double Epsilon, long Seed, bool Rescale,
    RescaleNorm Norm = RescaleNorm.Density, int Stream = 0)
{
    public const double DefaultGamma = 0.01;
    public const double DefaultEpsilon = 0.15;

    /// <summary>mergekit's defaults: rescale for Random and Della (DARE, DELLA), not for the magnitude trims (TIES, Breadcrumbs).</summary>
    public static bool RescalesByDefault(SparsifyMethod method) => method is SparsifyMethod.Random or SparsifyMethod.Della;

    /// <summary>Throws when a parameter is outside its range (density and gamma in [0, 1], epsilon in [0, 1]).</summary>
    public SparsifyOptions Validated(string tensorName)
    {
        Check(Density, "density", tensorName);
        Check(Gamma, "gamma", tensorName);
        Check(Epsilon, "epsilon", tensorName);
        if (Method == SparsifyMethod.Della && DellaRangeProblem(Density, Epsilon) is { } problem)
            throw new ArgumentException($"'{tensorName}': {problem}");
        return this;
    }

    /// <summary>
    /// Why DELLA cannot run at this density and epsilon, or null: each row's keep probabilities span density ± epsilon,
    /// which must lie inside (0, 1), as mergekit's <c>della_magprune</c> requires (density 0 or 1 never ranks: nothing or
    /// everything is kept).
    /// </summary>
    public static string? DellaRangeProblem(double density, double epsilon)
    {
        if (density <= 0 || density >= 1 || density - epsilon > 0 && density + epsilon < 1) return null;
        double bound = Math.Min(density, 1 - density);
        return string.Create(CultureInfo.InvariantCulture,
            $"DELLA keeps elements with probabilities from density − epsilon to density + epsilon, which must lie inside (0, 1); density {density:G6} and epsilon {epsilon:G6} give {density - epsilon:G6} to {density + epsilon:G6}: choose an epsilon below {bound:G6}.");
    }

    private static void Check(double value, string what, string tensorName)
    {
        if (!(value >= 0 && value <= 1))
            throw new ArgumentOutOfRangeException(what, value, $"'{tensorName}': {what} must be between 0 and 1; it is {value.ToString(CultureInfo.InvariantCulture)}.");
    }

    internal JObject ToJson()
    {
        var json = new JObject
        {
            ["method"] = Method.ToString().ToLowerInvariant(),
            ["density"] = Density,
            ["gamma"] = Gamma,
            ["epsilon"] = Epsilon,
            ["seed"] = Seed,
            ["rescale"] = Rescale,
        };
        if (Rescale) json["rescale_norm"] = Norm.ToString().ToLowerInvariant(); // only a rescale has a norm
        if (Stream != 0) json["stream"] = Stream; // absent: 0, as every vector saved before streams
        return json;
    }

    /// <summary>
    /// These options with the norm only where it means something (without rescaling there is none: Density stands for it),
    /// and a seed and stream only for the rules that draw: a magnitude trim's recipe, and so its output's bytes, are the
    /// same on every run.
    /// </summary>
    public SparsifyOptions Canonical() => (Rescale ? this : this with { Norm = RescaleNorm.Density }) is var canonical
        && !Draws(Method) ? canonical with { Stream = 0, Seed = 0 } : canonical;

    /// <summary>The rules that draw a random mask (DARE, DELLA): only they have a seed and a stream.</summary>
    public static bool Draws(SparsifyMethod method) => method is SparsifyMethod.Random or SparsifyMethod.Della;

    /// <summary>The options saved by <see cref="ToJson"/>, or null when <paramref name="json"/> is not such an object.</summary>
    internal static SparsifyOptions? FromJson(JToken? json)
    {
        if (json is not JObject o || o["method"] is not JValue { Type: JTokenType.String } method
            || !Enum.TryParse<SparsifyMethod>((string?)method, ignoreCase: true, out var parsed)) return null;
        try
        {
            return new SparsifyOptions(parsed, (double?)o["density"] ?? double.NaN, (double?)o["gamma"] ?? DefaultGamma,
                (double?)o["epsilon"] ?? DefaultEpsilon, (long?)o["seed"] ?? 0, (bool?)o["rescale"] ?? RescalesByDefault(parsed),
                // Vectors saved before the L1 rule existed were divided by their keep probability.
                o["rescale_norm"] is JValue { Type: JTokenType.String } norm && Enum.TryParse<RescaleNorm>((string?)norm, ignoreCase: true, out var parsedNorm)
                    ? parsedNorm : RescaleNorm.Density,
                (int?)o["stream"] ?? 0);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException or JsonException)
        {
            return null;
        }
    }

    /// <summary>"magnitude, density 0.3, no rescale" for the model card; only the parameters the rule uses.</summary>
    public string Describe() => Describe(Density.ToString("R", CultureInfo.InvariantCulture));

    internal string Describe(string density)
    {
        var parts = new List<string> { Method.ToString().ToLowerInvariant(), $"density {density}" };
        if (Method == SparsifyMethod.Breadcrumbs) parts.Add(string.Create(CultureInfo.InvariantCulture, $"gamma {Gamma:R}"));
        if (Method == SparsifyMethod.Della) parts.Add(string.Create(CultureInfo.InvariantCulture, $"epsilon {Epsilon:R}"));
        if (Draws(Method)) parts.Add(string.Create(CultureInfo.InvariantCulture, $"seed {Seed}{(Stream == 0 ? "" : $", stream {Stream}")}"));
        parts.Add(!Rescale ? "no rescale" : Norm == RescaleNorm.L1 ? "rescaled to the L1 norm" : "rescaled by the keep probability");
        return string.Join(", ", parts);
    }
}
