using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Export;

/// <summary>Faults during an export: the target is never half-written and nothing is left behind.</summary>
public class ExportFaultTests
{
    /// <summary>A source that fails (or waits) when its bytes are asked for: fault injection into the merge path.</summary>
    internal sealed class FaultySource(ITensorSource inner, Action onRead) : ITensorSource
    {
        public string Name => inner.Name;
        public DType DType => inner.DType;
        public long[] Shape => inner.Shape;
        public long ElementCount => inner.ElementCount;
        public long ByteLength => inner.ByteLength;
        public torch.Tensor ReadChunk(long first, long count, ComputeContext context) { onRead(); return inner.ReadChunk(first, count, context); }
        public void CopyBytes(long offset, Span<byte> destination, ComputeContext context) { onRead(); inner.CopyBytes(offset, destination, context); }
    }

    private static void AssertNothingLeft(Trio trio, string target)
    {
        Assert.False(Directory.Exists(target) || File.Exists(target), $"{target} exists");
        var litter = Directory.GetFileSystemEntries(trio.Root).Select(Path.GetFileName).Where(n => n!.StartsWith('.')).ToList();
        Assert.True(litter.Count == 0, "left behind: " + string.Join(", ", litter));
    }

    private static List<ITensorSource> WithFaultAt(MergePlanLike plan, int index, Action fault) =>
        plan.Outputs.Select((o, i) => i == index ? new FaultySource(o, fault) : o).ToList();

    private sealed record MergePlanLike(IReadOnlyList<ITensorSource> Outputs);

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(20)]
    public void An_exception_from_the_tensor_library_leaves_no_target_and_no_litter(int failingTensor)
    {
        using var trio = new Trio();
        var outputs = WithFaultAt(new(trio.Plan().Outputs), failingTensor, () => throw new ExternalException("libtorch: out of memory"));
        var target = trio.Output("merged");
        Assert.Throws<ExternalException>(() => Trio.Export(target, outputs));
        AssertNothingLeft(trio, target);
    }

    [Fact]
    public void Disk_full_while_writing_leaves_no_target_and_names_the_cause()
    {
        using var trio = new Trio();
        var outputs = WithFaultAt(new(trio.Plan().Outputs), 12, () => throw new IOException("No space left on device"));
        var target = trio.Output("merged");
        var error = Assert.Throws<IOException>(() => Trio.Export(target, outputs));
        Assert.Contains("No space left", error.Message);
        AssertNothingLeft(trio, target);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(18)]
    public void Cancellation_at_any_point_leaves_no_target_and_no_litter(int cancelAtTensor)
    {
        using var trio = new Trio();
        using var cancel = new CancellationTokenSource();
        var outputs = WithFaultAt(new(trio.Plan().Outputs), cancelAtTensor, cancel.Cancel);
        var target = trio.Output("merged");
        Assert.ThrowsAny<OperationCanceledException>(() => Trio.Export(target, outputs, cancel: cancel.Token));
        AssertNothingLeft(trio, target);
    }

    [Fact]
    public void A_failed_forced_export_keeps_the_existing_target_intact()
    {
        using var trio = new Trio();
        var target = trio.Output("merged");
        Trio.Export(target, trio.Plan().Outputs);
        var before = Directory.GetFiles(target).ToDictionary(Path.GetFileName, File.ReadAllBytes);
        var outputs = WithFaultAt(new(trio.Plan(0.5).Outputs), 10, () => throw new IOException("boom"));
        Assert.Throws<IOException>(() => ModelExporter.Export(new ExportRequest(target, outputs, 4000, Force: true), ComputeContext.Cpu()));
        var after = Directory.GetFiles(target).ToDictionary(Path.GetFileName, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
    }

    [Fact]
    public void An_existing_target_without_force_is_refused_before_anything_is_computed()
    {
        using var trio = new Trio();
        var target = trio.Output("merged");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "precious");
        var computed = false;
        var outputs = WithFaultAt(new(trio.Plan().Outputs), 0, () => computed = true);
        Assert.Throws<IOException>(() => Trio.Export(target, outputs));
        Assert.False(computed);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(target, "keep.txt")));
    }

    [Fact]
    public void A_shard_truncated_during_the_merge_is_an_error_naming_the_file()
    {
        using var trio = new Trio();
        var plan = trio.Plan();
        var shard = Directory.GetFiles(trio.CpPath, "*.safetensors").Order().Last();
        using (var file = new FileStream(shard, FileMode.Open, FileAccess.Write)) file.SetLength(file.Length - 100);
        var target = trio.Output("merged");
        var error = Assert.Throws<SafeTensorException>(() => Trio.Export(target, plan.Outputs));
        Assert.Equal(SafeTensorRule.FileChanged, error.Rule);
        Assert.Contains(Path.GetFileName(shard), error.Message);
        AssertNothingLeft(trio, target);
    }

    [Fact]
    public void A_shard_removed_during_the_merge_is_an_error_naming_the_file()
    {
        using var trio = new Trio();
        var plan = trio.Plan();
        var shard = Directory.GetFiles(trio.ChatPath, "*.safetensors").Order().First();
        File.Delete(shard);
        var target = trio.Output("merged");
        var error = Assert.Throws<SafeTensorException>(() => Trio.Export(target, plan.Outputs));
        Assert.Contains(Path.GetFileName(shard), error.Message);
        AssertNothingLeft(trio, target);
    }

    [Fact]
    public void Two_exports_to_one_target_one_completes_the_other_fails_clearly()
    {
        using var trio = new Trio();
        var target = trio.Output("merged");
        using var firstIsWriting = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var slow = WithFaultAt(new(trio.Plan().Outputs), 3, () => { firstIsWriting.Set(); release.Wait(TimeSpan.FromSeconds(30)); });
        var first = Task.Run(() => Trio.Export(target, slow));
        Assert.True(firstIsWriting.Wait(TimeSpan.FromSeconds(30)));

        var second = Assert.Throws<Core.Export.ExportInProgressException>(() => Trio.Export(target, trio.Plan(0.5).Outputs));
        Assert.Contains("in progress", second.Message);
        release.Set();
        first.Wait();
        Assert.True(ModelValidator(target));
    }

    private static bool ModelValidator(string path) => Core.Validation.ModelValidator.Validate(path).IsValid;

    private sealed class ExternalException(string message) : Exception(message);
}
