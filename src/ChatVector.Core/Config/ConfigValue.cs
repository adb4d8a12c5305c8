using System.Globalization;

namespace ChatVector.Core.Config;

/// <summary>
/// A parameter value of a mergekit config: a scalar (number, boolean or text), a gradient (a list of numbers,
/// interpolated over a slice's layers), or a filtered list (the first entry whose <c>filter</c> is a substring of the
/// tensor's name, an entry without a filter matching every tensor). <see cref="At"/> gives the scalar for one tensor.
/// </summary>
public abstract record ConfigValue
{
    /// <summary>The value for tensor <paramref name="tensorName"/> at <paramref name="t"/> ∈ [0, 1] (its layer's place in the slice), or null when no filter matches.</summary>
    public abstract object? At(string tensorName, double t);

    /// <summary>Every scalar the value can take, for checking before any tensor is read.</summary>
    public abstract IEnumerable<object> Leaves { get; }

    /// <summary>Each parameter's value for one tensor; a filtered value that matches no filter is left out (its default applies).</summary>
    public static Dictionary<string, object> ForTensor(IReadOnlyDictionary<string, ConfigValue> values, string tensorName, double t)
    {
        var resolved = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
            if (value.At(tensorName, t) is { } scalar) resolved[name] = scalar;
        return resolved;
    }
}

public sealed record ScalarValue(object Value) : ConfigValue
{
    public override object? At(string tensorName, double t) => Value;
    public override IEnumerable<object> Leaves => [Value];
}

/// <summary>mergekit's gradient: at t, x = t·(n − 1), linear between the neighbouring points.</summary>
public sealed record GradientValue(IReadOnlyList<double> Points) : ConfigValue
{
    public override object? At(string tensorName, double t)
    {
        if (Points.Count == 1) return Points[0];
        double x = Math.Clamp(t, 0, 1) * (Points.Count - 1);
        int below = Math.Min((int)Math.Floor(x), Points.Count - 2);
        double fraction = x - below;
        return Points[below] + (Points[below + 1] - Points[below]) * fraction;
    }

    public override IEnumerable<object> Leaves => Points.Cast<object>();

    public override string ToString() => "[" + string.Join(", ", Points.Select(p => p.ToString("R", CultureInfo.InvariantCulture))) + "]";
}

/// <summary>A list of scalars that are not all numbers: mergekit steps through them, item ⌊t·(n − 1)⌋ at t.</summary>
public sealed record SteppedValue(IReadOnlyList<object> Items) : ConfigValue
{
    public override object? At(string tensorName, double t) => Items[(int)(Math.Clamp(t, 0, 1) * (Items.Count - 1))];
    public override IEnumerable<object> Leaves => Items;
}

/// <summary>mergekit's filtered values: the first entry whose filter is in the tensor's name (or has no filter) wins.</summary>
public sealed record FilteredValue(IReadOnlyList<(string? Filter, ConfigValue Value)> Entries) : ConfigValue
{
    public override object? At(string tensorName, double t)
    {
        foreach (var (filter, value) in Entries)
            if (filter is null || filter == "*" || tensorName.Contains(filter, StringComparison.Ordinal)) return value.At(tensorName, t); // "*": every tensor, as in mergekit
        return null;
    }

    public override IEnumerable<object> Leaves => Entries.SelectMany(e => e.Value.Leaves);
}
