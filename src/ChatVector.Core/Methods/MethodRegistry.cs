namespace ChatVector.Core.Methods;

/// <summary>
/// Every merge method by its mergekit name: one line per method. A method is one file (a <see cref="MergeMethod"/>)
/// plus its line here; <see cref="Register"/> adds one at run time (a test's, or a script's).
/// </summary>
public static class MethodRegistry
{
    private static readonly Dictionary<string, MergeMethod> ByName = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

    static MethodRegistry()
    {
        Register(new TaskArithmeticMethod());
        Register(new LinearMethod());
        Register(new TiesMethod());
        Register(new DareLinearMethod());
        Register(new DareTiesMethod());
        Register(new BreadcrumbsMethod());
        Register(new BreadcrumbsTiesMethod());
        Register(new DellaMethod());
        Register(new DellaLinearMethod());
        Register(new SlerpMethod());
        Register(new NearSwapMethod());
        Register(new ModelStockMethod());
        Register(new NuSlerpMethod());
        Register(new MultiSlerpMethod());
        Register(new KarcherMethod());
        Register(new PassthroughMethod());
        Register(new RamMethod());
        Register(new RamPlusMethod());
        Register(new SceMethod());
        Register(new ArceeFusionMethod());
    }

    public static IReadOnlyList<MergeMethod> All
    {
        get { lock (Gate) return ByName.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToList(); }
    }

    /// <summary>Adds <paramref name="method"/>; a second method of the same name is refused.</summary>
    public static void Register(MergeMethod method)
    {
        lock (Gate)
            if (!ByName.TryAdd(method.Name, method)) throw new ArgumentException($"a merge method named '{method.Name}' is already registered", nameof(method));
    }

    /// <summary>The method of mergekit name <paramref name="name"/>, or an error naming the nearest valid name.</summary>
    public static MergeMethod Find(string name)
    {
        lock (Gate)
            return ByName.TryGetValue(name, out var method)
                ? method
                : throw new MethodParameterException($"no merge method '{name}'{NameSuggestion.Phrase(name, ByName.Keys)}; the methods: {string.Join(", ", ByName.Keys.Order(StringComparer.Ordinal))}.");
    }
}
