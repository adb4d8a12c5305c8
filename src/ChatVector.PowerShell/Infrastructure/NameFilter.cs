using System.Management.Automation;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>-Name / -Exclude wildcard lists as one predicate on tensor names (case-sensitive: tensor names are).</summary>
internal static class NameFilter
{
    public static Func<string, bool> Create(string[]? include, string[]? exclude = null)
    {
        var includes = Patterns(include);
        var excludes = Patterns(exclude);
        return name => (includes.Count == 0 || includes.Any(p => p.IsMatch(name))) && !excludes.Any(p => p.IsMatch(name));
    }

    private static List<WildcardPattern> Patterns(string[]? texts) =>
        (texts ?? []).Select(t => new WildcardPattern(t, WildcardOptions.CultureInvariant)).ToList();
}
