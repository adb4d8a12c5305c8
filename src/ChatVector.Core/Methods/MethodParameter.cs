using System.Globalization;

namespace ChatVector.Core.Methods;

/// <summary>What a parameter holds.</summary>
public enum ParameterKind
{
    Number,
    Boolean,
    /// <summary>A whole number (a seed).</summary>
    Integer,
}

/// <summary>
/// Where a parameter is given, as in mergekit: per model (its <c>weight</c>, <c>density</c>: a model's entry, or the global
/// default for every model) or for the whole merge only (<c>normalize</c>, <c>rescale</c>).
/// </summary>
public enum ParameterScope
{
    PerModel,
    Merge,
}

/// <summary>One parameter a method takes: its mergekit name, kind, default (null: required) and valid range.</summary>
public sealed record MethodParameter(string Name, ParameterKind Kind, object? Default, ParameterScope Scope, string Description,
    double Minimum = double.NegativeInfinity, double Maximum = double.PositiveInfinity)
{
    public bool Required => Default is null;

    /// <summary>A number in [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public static MethodParameter Number(string name, double? defaultValue, ParameterScope scope, string description,
        double minimum = double.NegativeInfinity, double maximum = double.PositiveInfinity) =>
        new(name, ParameterKind.Number, defaultValue, scope, description, minimum, maximum);

    public static MethodParameter Boolean(string name, bool defaultValue, string description) =>
        new(name, ParameterKind.Boolean, defaultValue, ParameterScope.Merge, description);

    public static MethodParameter Integer(string name, long? defaultValue, string description) =>
        new(name, ParameterKind.Integer, defaultValue, ParameterScope.Merge, description);

    /// <summary>The value as this parameter holds it (double, bool or long), or a <see cref="MethodParameterException"/> naming <paramref name="where"/>.</summary>
    public object Convert(object? value, string where)
    {
        if (value is null) throw Invalid(value, where, Kind == ParameterKind.Boolean ? "true or false" : Kind == ParameterKind.Integer ? "a whole number" : "a number");
        object converted = Kind switch
        {
            // As mergekit's pydantic reads a bool: 1/0 and yes/no/on/off/t/f/y/n besides true/false.
            ParameterKind.Boolean => value switch
            {
                bool b => b,
                double d when d is 0 or 1 => d == 1,
                int i when i is 0 or 1 => i == 1,
                long l when l is 0 or 1 => l == 1,
                string s when s.ToLowerInvariant() is "true" or "t" or "yes" or "y" or "on" or "1" => true,
                string s when s.ToLowerInvariant() is "false" or "f" or "no" or "n" or "off" or "0" => false,
                _ => throw Invalid(value, where, "true or false"),
            },
            ParameterKind.Integer => value switch
            {
                long l => l,
                int i => (long)i,
                double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
                string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => throw Invalid(value, where, "a whole number"),
            },
            _ => value switch
            {
                double d => d,
                float f => (double)f,
                int i => (double)i,
                long l => (double)l,
                decimal m => (double)m,
                string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => throw Invalid(value, where, "a number"),
            },
        };
        if (converted is double number && !(number >= Minimum && number <= Maximum))
            throw Invalid(value, where, Maximum == double.PositiveInfinity
                ? string.Create(CultureInfo.InvariantCulture, $"a number of at least {Minimum}")
                : string.Create(CultureInfo.InvariantCulture, $"a number between {Minimum} and {Maximum}"));
        return converted;
    }

    private MethodParameterException Invalid(object? value, string where, string expected) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{where}: parameter '{Name}' must be {expected}; it is {FormatValue(value)}."));

    private static string FormatValue(object? value) => value switch
    {
        null => "nothing (null)",
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IDictionary => "a table (one value is needed here; filter lists and gradients are for configs)",
        System.Collections.IEnumerable => "a list (one value is needed here; filter lists and gradients are for configs)",
        _ => value.ToString() is { Length: > 0 } text && text != value.GetType().FullName ? text : $"a {value.GetType().Name}",
    };
}

/// <summary>A parameter a method does not take, one it needs and did not get, or a value out of its range.</summary>
public sealed class MethodParameterException(string message) : ArgumentException(message);
