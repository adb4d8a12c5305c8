using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ChatVector.Core.Models;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>
/// Tab completion for -Name/-Exclude (-Include/-Exclude): the tensor names of the model already bound to -Path,
/// -LiteralPath (Get-SafeTensor) or -Base, else -Chat (Get-ChatVector, Export-LoraAdapter, whose -Path is its output).
/// Reads headers only.
/// </summary>
public sealed class TensorNameCompleter : IArgumentCompleter
{
    // Which bound parameter names the model, and whether it is taken literally; the first one bound wins.
    private static readonly (string Parameter, bool Literal)[] Sources =
        [("Path", false), ("LiteralPath", true), ("Base", true), ("Chat", true)];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        return ModelPaths(commandName, fakeBoundParameters)
            .SelectMany(TensorsOf)
            .Where(t => t.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(t => t.Name)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => new CompletionResult(Quote(t.Name), t.Name, CompletionResultType.ParameterValue, $"{t.Name} {t.DType} [{string.Join(", ", t.Shape)}]"))
            .ToList();
    }

    private static IEnumerable<string> ModelPaths(string commandName, IDictionary bound)
    {
        // Export-LoraAdapter's -Path is the adapter it writes: its tensors are the -Base model's.
        bool pathIsOutput = commandName.EndsWith("Export-LoraAdapter", StringComparison.OrdinalIgnoreCase);
        foreach (var (parameter, literal) in Sources.Where(s => !pathIsOutput || s.Parameter is not ("Path" or "LiteralPath")))
        {
            if (!bound.Contains(parameter)) continue;
            var paths = LanguagePrimitives.ConvertTo<string[]>(bound[parameter]);
            return paths.SelectMany(path => Resolve(path, literal)).ToList();
        }
        return [];
    }

    /// <summary>Resolves through the session (its current location, drives and ~), as the cmdlet will.</summary>
    private static IEnumerable<string> Resolve(string path, bool literal)
    {
        using var shell = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
        shell.AddCommand("Microsoft.PowerShell.Management\\Convert-Path")
            .AddParameter(literal ? "LiteralPath" : "Path", path)
            .AddParameter("ErrorAction", ActionPreference.Ignore);
        return shell.Invoke<string>();
    }

    private static IEnumerable<(string Name, string DType, long[] Shape)> TensorsOf(string path)
    {
        try
        {
            return StoredModel.Open(path).Tensors.Select(t => (t.Name, t.Info.DType.ToString(), t.Info.Shape)).ToList();
        }
        catch (Exception e) when (e is Core.Format.SafeTensorException or IOException or UnauthorizedAccessException)
        {
            return []; // nothing to offer from a path that is not a model; the command itself will say why
        }
    }

    private static string Quote(string name) =>
        name.Any(c => char.IsWhiteSpace(c) || "'\"`$(){}[];,|&@#<>*?".Contains(c)) ? $"'{name.Replace("'", "''")}'" : name;
}
