using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>Method parameters given as PowerShell hashtables (<c>@{ density = 0.5 }</c>), as Core takes them: names as text, values unwrapped.</summary>
internal static class ParameterTables
{
    public static Dictionary<string, object> ToDictionary(Hashtable? table)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table ?? new Hashtable())
            values[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = Unwrapped(entry.Value)!;
        return values;
    }

    /// <summary>The value without PowerShell's wrappers, inside lists and tables too (Core knows no PSObject).</summary>
    private static object? Unwrapped(object? value) => (value is PSObject wrapped ? wrapped.BaseObject : value) switch
    {
        IDictionary table => UnwrappedTable(table),
        IEnumerable list and not string => list.Cast<object?>().Select(Unwrapped).ToArray(),
        var plain => plain,
    };

    private static Hashtable UnwrappedTable(IDictionary table)
    {
        var copy = new Hashtable(StringComparer.OrdinalIgnoreCase); // PowerShell's own tables ignore case
        foreach (DictionaryEntry entry in table) copy[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = Unwrapped(entry.Value);
        return copy;
    }
}
