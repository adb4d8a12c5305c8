using System.Globalization;

namespace ChatVector.Core.Runtime;

/// <summary>
/// Numbers from CHATVECTOR_* environment variables, read with the invariant culture: a setting in a
/// scheduled task means the same on a server whatever its culture (under ar-SA, "+4" is not a number).
/// </summary>
internal static class EnvironmentNumbers
{
    /// <summary>The variable's value as an integer, or null when it is unset or not one.</summary>
    public static int? Int(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
