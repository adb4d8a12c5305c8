using ChatVector.Core.Format;
using ChatVector.Core.Models;

namespace ChatVector.Core.Validation;

/// <summary>
/// Checks a file or model folder and reports every problem instead of stopping at the first: each
/// safetensors file on its own, then the folder as a whole (index, shards, duplicates). Never throws
/// for a bad input.
/// </summary>
public static class ModelValidator
{
    public static ValidationReport Validate(string path)
    {
        var problems = new List<ValidationProblem>();
        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*.safetensors").Order(StringComparer.Ordinal).ToList()
            : [path];
        int tensors = 0;
        foreach (var file in files)
        {
            if (Try(() => SafeTensorFile.Open(file), problems) is { } opened) tensors += opened.Tensors.Count;
        }
        if (problems.Count == 0 && Directory.Exists(path)) Try(() => ModelFolder.Open(path), problems);
        return new ValidationReport(path, files.Count, tensors, problems);
    }

    private static T? Try<T>(Func<T> open, List<ValidationProblem> problems) where T : class
    {
        try
        {
            return open();
        }
        catch (SafeTensorException e)
        {
            problems.Add(new ValidationProblem(e.FilePath, e.TensorName, e.Rule.ToString(), e.Message));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            problems.Add(new ValidationProblem(e is FileNotFoundException f ? f.FileName ?? "" : "", null, e.GetType().Name, e.Message));
        }
        return null;
    }
}
