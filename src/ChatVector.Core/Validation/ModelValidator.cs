using ChatVector.Core.Format;
using ChatVector.Core.Integrity;
using ChatVector.Core.Models;

namespace ChatVector.Core.Validation;

/// <summary>
/// Checks a file or model folder and reports every problem instead of stopping at the first: each
/// safetensors file on its own, then the folder as a whole (index, shards, duplicates), then, when
/// asked, the data (NaN/Inf values, checksums recorded at export). Never throws for a bad input.
/// </summary>
public static class ModelValidator
{
    /// <param name="progress">With <paramref name="checkData"/>: called as data is read, with (bytes done, bytes in all, tensor).</param>
    public static ValidationReport Validate(string path, bool checkData = false, CancellationToken cancellation = default, Action<long, long, string>? progress = null)
    {
        var problems = new List<ValidationProblem>();
        var files = Directory.Exists(path) ? StoredModel.WeightFiles(path) : [path];
        var opened = files.Select(file => Try(() => SafeTensorFile.Open(file), file, problems)).OfType<SafeTensorFile>().ToList();
        if (problems.Count == 0 && Directory.Exists(path)) Try(() => StoredModel.Open(path), path, problems);
        var data = new DataSummary { BytesTotal = opened.Sum(f => f.Tensors.Sum(t => t.ByteLength)), Progress = progress };
        if (checkData)
            foreach (var file in opened) Try(() => CheckData(file, data, problems, cancellation), file.Path, problems);
        return new ValidationReport(path, files.Count, opened.Sum(f => f.Tensors.Count), problems)
        {
            NaNCount = data.NaN,
            InfCount = data.Inf,
            ChecksumsVerified = data.Verified,
            DataChecked = checkData,
        };
    }

    private sealed class DataSummary
    {
        public long NaN, Inf;
        public int Verified;
        public long BytesDone, BytesTotal;
        public Action<long, long, string>? Progress;
    }

    private static SafeTensorFile CheckData(SafeTensorFile file, DataSummary summary, List<ValidationProblem> problems, CancellationToken cancellation)
    {
        var recorded = ContentChecksums.Recorded(file);
        var buffer = new byte[4 << 20];
        for (int i = 0; i < file.Tensors.Count; i++)
        {
            var tensor = file.Tensors[i];
            var (nan, inf) = CountNonFinite(file, tensor, buffer, cancellation);
            summary.BytesDone += tensor.ByteLength;
            summary.Progress?.Invoke(summary.BytesDone, summary.BytesTotal, tensor.Name);
            summary.NaN += nan;
            summary.Inf += inf;
            if (nan + inf > 0)
                problems.Add(new ValidationProblem(file.Path, tensor.Name, "NonFiniteValues", $"{file.Path}: tensor '{tensor.Name}' holds {nan} NaN and {inf} Inf values."));
            if (recorded is null) continue;
            var actual = ContentChecksums.Compute(file, tensor, buffer, cancellation);
            if (actual == recorded[i]) summary.Verified++;
            else problems.Add(new ValidationProblem(file.Path, tensor.Name, "ChecksumMismatch", $"{file.Path}: tensor '{tensor.Name}' does not match the checksum recorded when it was written: its bytes changed."));
        }
        return file;
    }

    private static (long NaN, long Inf) CountNonFinite(SafeTensorFile file, TensorInfo tensor, byte[] buffer, CancellationToken cancellation)
    {
        if (!NonFiniteCounter.Supports(tensor.DType)) return (0, 0);
        long nan = 0, inf = 0;
        int step = buffer.Length / 8 * 8; // whole elements of every supported size
        for (long offset = 0; offset < tensor.ByteLength; offset += step)
        {
            cancellation.ThrowIfCancellationRequested();
            var chunk = buffer.AsSpan(0, (int)Math.Min(step, tensor.ByteLength - offset));
            file.ReadTensorBytes(tensor, offset, chunk);
            var (n, i) = NonFiniteCounter.Count(tensor.DType, chunk);
            nan += n;
            inf += i;
        }
        return (nan, inf);
    }

    /// <param name="path">The file or folder being read: what a problem names when the exception does not.</param>
    private static T? Try<T>(Func<T> open, string path, List<ValidationProblem> problems) where T : class
    {
        try
        {
            return open();
        }
        catch (InputRuleException e)
        {
            problems.Add(new ValidationProblem(e.FilePath, e.TensorName, e.RuleName, e.Message));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // The rule as the cmdlets' error ids name it, not the exception's type.
            var rule = e is InvalidDataException ? "InvalidData" : IO.IoFailure.Classify(e) switch
            {
                IO.IoFailureKind.NotFound => "PathNotFound",
                IO.IoFailureKind.PermissionDenied => "PermissionDenied",
                _ => "ReadFailed",
            };
            problems.Add(new ValidationProblem(e is FileNotFoundException { FileName: { } missing } ? missing : path, null, rule, e.Message));
        }
        return null;
    }
}
