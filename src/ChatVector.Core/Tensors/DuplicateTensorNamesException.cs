namespace ChatVector.Core.Tensors;

/// <summary>
/// The same tensor name arrived more than once where names must be unique (one output, one vector's
/// provenance). Raised before anything is written: every name-keyed map built for an output (its
/// ratios, its sparsification record, its header) relies on it, so it is checked first.
/// </summary>
public sealed class DuplicateTensorNamesException(IReadOnlyList<string> names, string scope)
    : ArgumentException($"Tensor names must be unique in {scope}; received more than once: {Sample(names)}. " +
        "Each tensor may come once: select with -Name/-Exclude, or send each input to its own export.")
{
    public IReadOnlyList<string> Names { get; } = names;

    /// <summary>Throws when a name occurs more than once in <paramref name="names"/>; <paramref name="scope"/> says where they must be unique.</summary>
    public static void ThrowIfAny(IEnumerable<string> names, string scope)
    {
        var duplicates = names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0) throw new DuplicateTensorNamesException(duplicates, scope);
    }

    private static string Sample(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(5)) + (names.Count > 5 ? $", ... ({names.Count - 5} more)" : "");
}
