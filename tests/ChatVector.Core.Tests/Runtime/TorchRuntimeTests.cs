using ChatVector.Core.Runtime;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Runtime;

/// <summary>Loads the module's patched natives (module/bin/deps, via CHATVECTOR_NATIVE_DIR) and computes.</summary>
public sealed class TorchRuntimeTests
{
    public TorchRuntimeTests() => TestPaths.UseModuleNatives();

    [Fact]
    public void Loads_and_computes_bf16_to_float32()
    {
        TorchRuntime.EnsureLoaded();
        Assert.Equal(22.5f, TorchRuntime.SelfTest());
        Assert.Equal(Path.GetFullPath(TestPaths.ModuleDeps), Path.GetFullPath(TorchRuntime.NativeDirectory!));
    }

    [Fact]
    public void EnsureLoaded_is_safe_from_many_threads()
    {
        Parallel.For(0, 8, _ => TorchRuntime.EnsureLoaded());
        Assert.NotNull(TorchRuntime.NativeDirectory);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void Cpu_specs_give_the_cpu(string? spec) =>
        Assert.Equal(DeviceType.CPU, TorchRuntime.ParseDevice(spec).type);

    [Fact]
    public void Absent_cuda_device_is_a_clear_error()
    {
        TorchRuntime.EnsureLoaded();
        if (torch.cuda.is_available() && torch.cuda.device_count() > 7) return; // a machine with 8+ GPUs
        var e = Assert.Throws<InvalidOperationException>(() => TorchRuntime.ParseDevice("cuda:7"));
        Assert.Matches("CPU-only|device 7 not present", e.Message);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("gpu0")]
    public void Garbage_device_is_ArgumentException(string spec)
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDevice(spec));
        Assert.Contains($"'{spec}'", e.Message);
    }

    [ChatVector.Tests.LinuxFact("the unpatched libLibTorchSharp.so and glibc's libstdc++ exist only there")]
    public void Unpatched_copy_fails_with_an_actionable_message()
    {
        if (SystemLibstdcxxHas("GLIBCXX_3.4.32")) return; // only meaningful on older libstdc++
        TorchRuntime.EnsureLoaded(); // its dependencies are then already loaded; only the version check can fail
        var dir = Directory.CreateTempSubdirectory("cv-unpatched-").FullName;
        try
        {
            var copy = Path.Combine(dir, "libLibTorchSharp.so");
            File.Copy(TestPaths.PackageLibTorchSharp, copy);
            var e = Assert.Throws<InvalidOperationException>(() => TorchRuntime.Preload(copy));
            Assert.Contains(copy, e.Message);
            Assert.Contains("GLIBCXX", e.Message);
            Assert.Contains("NativePatch", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool SystemLibstdcxxHas(string version)
    {
        var lib = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
        if (lib is null) return true; // unknown: skip rather than guess
        return System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(lib)).Contains(version + "\0", StringComparison.Ordinal);
    }
}
