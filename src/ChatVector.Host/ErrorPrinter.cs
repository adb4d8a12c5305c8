using System.Management.Automation;

namespace ChatVector.Host;

/// <summary>Writes an error record to stderr the way a user can act on it: the message, then
/// its category, fully qualified id (which tests and scripts match on) and target.</summary>
internal static class ErrorPrinter
{
    public static void Print(ErrorRecord record) => Console.Error.WriteLine(Format(record));

    public static string Format(ErrorRecord record)
    {
        var message = record.ErrorDetails?.Message ?? record.Exception?.Message ?? record.ToString();
        var command = record.InvocationInfo?.MyCommand?.Name;
        var lines = new List<string> { string.IsNullOrEmpty(command) ? message : $"{command}: {message}" };
        lines.Add($"    + CategoryInfo          : {record.CategoryInfo}");
        lines.Add($"    + FullyQualifiedErrorId : {record.FullyQualifiedErrorId}");
        if (record.TargetObject is not null)
            lines.Add($"    + TargetObject          : {record.TargetObject}");
        return string.Join(Environment.NewLine, lines);
    }
}
