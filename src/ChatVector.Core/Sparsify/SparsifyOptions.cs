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

/// <summary>
/// One tensor's sparsification: the rule and its parameters. <see cref="Rescale"/> divides kept elements by
/// their keep probability (density, or DELLA's p); it is on by default for the random rules only.
/// </summary>
public sealed record SparsifyOptions(SparsifyMethod Method, double Density, double Gamma, double Epsilon, long Seed, bool Rescale)
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
        return this;
    }

    private static void Check(double value, string what, string tensorName)
    {
        if (!(value >= 0 && value <= 1))
            throw new ArgumentOutOfRangeException(what, value, $"'{tensorName}': {what} must be between 0 and 1; it is {value.ToString(CultureInfo.InvariantCulture)}.");
    }

    internal JObject ToJson() => new()
    {
        ["method"] = Method.ToString().ToLowerInvariant(),
        ["density"] = Density,
        ["gamma"] = Gamma,
        ["epsilon"] = Epsilon,
        ["seed"] = Seed,
        ["rescale"] = Rescale,
    };

    /// <summary>The options saved by <see cref="ToJson"/>, or null when <paramref name="json"/> is not such an object.</summary>
    internal static SparsifyOptions? FromJson(JToken? json)
    {
        if (json is not JObject o || o["method"] is not JValue { Type: JTokenType.String } method
            || !Enum.TryParse<SparsifyMethod>((string?)method, ignoreCase: true, out var parsed)) return null;
        try
        {
            return new SparsifyOptions(parsed, (double?)o["density"] ?? double.NaN, (double?)o["gamma"] ?? DefaultGamma,
                (double?)o["epsilon"] ?? DefaultEpsilon, (long?)o["seed"] ?? 0, (bool?)o["rescale"] ?? RescalesByDefault(parsed));
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
        if (Method is SparsifyMethod.Random or SparsifyMethod.Della) parts.Add(string.Create(CultureInfo.InvariantCulture, $"seed {Seed}"));
        parts.Add(Rescale ? "rescaled" : "no rescale");
        return string.Join(", ", parts);
    }
}
