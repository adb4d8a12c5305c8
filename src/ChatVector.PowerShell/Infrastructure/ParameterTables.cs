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
            values[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value!;
        return values;
    }
}
