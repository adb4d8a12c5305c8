namespace ChatVector.Core.Methods;

/// <summary>
/// A method's parameter values after checking against its declared parameters: each given value converted to the
/// parameter's kind and range, each missing one its default; an unknown name or a missing required value is refused,
/// the nearest valid name suggested.
/// </summary>
public sealed class ParameterValues
{
    private readonly Dictionary<string, object> _values;

    private ParameterValues(Dictionary<string, object> values) => _values = values;

    /// <param name="where">What the values belong to, for errors ("method 'ties'", "model 'chat'").</param>
    /// <param name="scope">The parameters checked: those of this scope; a name of the other scope is refused too.</param>
    public static ParameterValues Check(IReadOnlyList<MethodParameter> declared, IReadOnlyDictionary<string, object>? given, string where,
        ParameterScope scope, IReadOnlyDictionary<string, object>? defaults = null)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in given ?? new Dictionary<string, object>())
        {
            var parameter = declared.FirstOrDefault(p => p.Name == name)
                ?? throw new MethodParameterException($"{where}: no parameter '{name}'{NameSuggestion.Phrase(name, declared.Select(p => p.Name))}.");
            if (parameter.Scope != scope)
                throw new MethodParameterException($"{where}: parameter '{name}' is given {(parameter.Scope == ParameterScope.Merge ? "for the whole merge" : "per model")}, not here.");
            values[name] = parameter.Convert(value, where);
        }
        foreach (var parameter in declared.Where(p => p.Scope == scope && !values.ContainsKey(p.Name)))
        {
            if (defaults is not null && defaults.TryGetValue(parameter.Name, out var inherited)) values[parameter.Name] = parameter.Convert(inherited, where);
            else values[parameter.Name] = parameter.Default ?? throw new MethodParameterException($"{where}: parameter '{parameter.Name}' is required ({parameter.Description}).");
        }
        return new ParameterValues(values);
    }

    public double Number(string name) => (double)Get(name);
    public bool Boolean(string name) => (bool)Get(name);
    public long Integer(string name) => (long)Get(name);

    /// <summary>The values by name (converted), for a recipe or a model card.</summary>
    public IReadOnlyDictionary<string, object> All => _values;

    private object Get(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"parameter '{name}' was not declared by the method");
}
