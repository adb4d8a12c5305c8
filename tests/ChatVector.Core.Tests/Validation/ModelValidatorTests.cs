using System.IO.Hashing;
using ChatVector.Core.Format;
using ChatVector.Core.Integrity;
using ChatVector.Core.Models;
using ChatVector.Core.Validation;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.Validation;

/// <summary>Validation reports every problem (file, tensor, rule) and never throws for a bad input.</summary>
public sealed class ModelValidatorTests : TempDirTest
{
    private static readonly float[] Values = [1f, float.NaN, 2f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f];

    /// <summary>A file with one F32 tensor of <see cref="Values"/> and one U8 tensor, in that data order.</summary>
    private string DataFile(string name, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var path = Dir.File(name);
        SafeTensorsWriter.Write(path, [("w", "F32", [Values.Length], ValueBytes.Of(Values)), ("ids", "U8", [4], [1, 2, 3, 255])], metadata);
        return path;
    }

    private string Folder(string name)
    {
        var path = Dir.File(name);
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public void A_valid_folder_has_no_problems_and_counts_its_files_and_tensors()
    {
        var path = Dir.File("llama");
        new LlamaModelBuilder { Shards = 2 }.Write(path);
        var report = ModelValidator.Validate(path);
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
        Assert.Equal(2, report.Files);
        Assert.Equal(new LlamaModelBuilder().TensorShapes().Count(), report.Tensors);
        Assert.False(report.DataChecked);
    }

    [Fact]
    public void Every_broken_file_of_a_folder_is_reported_not_only_the_first()
    {
        var folder = Folder("broken");
        File.WriteAllBytes(Path.Combine(folder, "a.safetensors"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder, "b.safetensors"), RawSafeTensorFile.Build("{\"t\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]));
        File.WriteAllBytes(Path.Combine(folder, "c.safetensors"), RawSafeTensorFile.Valid([new("ok", "F32", [1])]));

        var report = ModelValidator.Validate(folder);

        Assert.Equal(3, report.Files);
        Assert.Equal(1, report.Tensors); // the one file that opened
        Assert.Collection(report.Problems.OrderBy(p => p.File, StringComparer.Ordinal),
            p => { Assert.EndsWith("a.safetensors", p.File); Assert.Equal(nameof(SafeTensorRule.FileTooShort), p.Rule); },
            p => { Assert.EndsWith("b.safetensors", p.File); Assert.Equal(nameof(SafeTensorRule.UnknownDType), p.Rule); Assert.Equal("t", p.Tensor); });
    }

    [Fact]
    public void Folder_rules_are_checked_once_every_file_is_sound()
    {
        var folder = Folder("indexed");
        File.WriteAllBytes(Path.Combine(folder, "s1.safetensors"), RawSafeTensorFile.Valid([new("a", "F32", [1])]));
        File.WriteAllText(Path.Combine(folder, ModelIndex.FileName), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}");
        var problem = Assert.Single(ModelValidator.Validate(folder).Problems);
        Assert.Equal(nameof(ModelFolderRule.IndexMissingShard), problem.Rule);
    }

    [Fact]
    public void A_missing_path_is_a_problem_not_an_exception()
    {
        var report = ModelValidator.Validate(Dir.File("absent.safetensors"));
        Assert.Equal(nameof(SafeTensorRule.FileNotFound), Assert.Single(report.Problems).Rule);
    }

    [Fact]
    public void Data_checks_count_NaN_and_Inf_per_tensor_only_when_asked()
    {
        var path = DataFile("nan.safetensors");
        long nan = Values.Count(float.IsNaN), inf = Values.Count(float.IsInfinity);

        var headerOnly = ModelValidator.Validate(path);
        Assert.True(headerOnly.IsValid);
        Assert.Equal((0L, 0L), (headerOnly.NaNCount, headerOnly.InfCount));

        var withData = ModelValidator.Validate(path, checkData: true);
        Assert.True(withData.DataChecked);
        Assert.Equal((nan, inf), (withData.NaNCount, withData.InfCount));
        var problem = Assert.Single(withData.Problems);
        Assert.Equal(("w", "NonFiniteValues"), (problem.Tensor, problem.Rule));
        Assert.Contains($"{nan} NaN and {inf} Inf", problem.Message);
    }

    [Fact]
    public void Recorded_checksums_are_verified_and_a_changed_byte_is_a_mismatch_naming_the_tensor()
    {
        byte[] wBytes = ValueBytes.Of(Values), idBytes = [1, 2, 3, 255];
        string Digest(byte[] b) => Convert.ToHexString(XxHash128.Hash(b)).ToLowerInvariant();
        // Recorded digests are in data order: w, then ids.
        var path = DataFile("sums.safetensors", new Dictionary<string, string> { [ContentChecksums.MetadataKey] = $"{Digest(wBytes)},{Digest(idBytes)}" });

        var intact = ModelValidator.Validate(path, checkData: true);
        Assert.Equal(2, intact.ChecksumsVerified);
        Assert.DoesNotContain(intact.Problems, p => p.Rule == "ChecksumMismatch");

        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 1; // the last byte of 'ids'
        File.WriteAllBytes(path, bytes);
        var changed = ModelValidator.Validate(path, checkData: true);
        Assert.Equal(1, changed.ChecksumsVerified);
        var mismatch = Assert.Single(changed.Problems, p => p.Rule == "ChecksumMismatch");
        Assert.Equal("ids", mismatch.Tensor);
    }

    [Fact]
    public void Data_checks_stop_when_cancelled() =>
        Assert.ThrowsAny<OperationCanceledException>(() => ModelValidator.Validate(DataFile("c.safetensors"), checkData: true, new CancellationToken(canceled: true)));
}
