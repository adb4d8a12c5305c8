using System.Collections.ObjectModel;
using System.Globalization;

namespace ChatVector.PowerShell.Output;

/// <summary>
/// A read-only list that prints as its items: "[4096, 11008]". Export-Csv writes a property with
/// ToString(), which for an array is only its type name (System.Int64[]); ConvertTo-Json and the
/// pipeline still see a list.
/// </summary>
public sealed class PrintableList<T> : ReadOnlyCollection<T>
{
    private readonly string _separator;
    private readonly bool _brackets;

    internal PrintableList(IList<T> items, string separator = ", ", bool brackets = true) : base(items)
    {
        _separator = separator;
        _brackets = brackets;
    }

    public override string ToString()
    {
        var text = string.Join(_separator, this.Select(item => Convert.ToString(item, CultureInfo.InvariantCulture)));
        return _brackets ? $"[{text}]" : text;
    }
}
