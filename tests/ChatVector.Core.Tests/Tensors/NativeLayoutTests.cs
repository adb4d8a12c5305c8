using ChatVector.Core.Tensors;
using Xunit;

namespace ChatVector.Core.Tests.Tensors;

public sealed class NativeLayoutTests
{
    [Theory]
    [InlineData("LibTorchSharp", "LibTorchSharp")]
    [InlineData("libLibTorchSharp.so", "LibTorchSharp")]
    [InlineData("LibTorchSharp.dll", "LibTorchSharp")]
    [InlineData("/x/y/libtorch_cpu.so", "torch_cpu")]
    [InlineData("torch_cpu", "torch_cpu")]
    [InlineData("libgomp-98b21ff3.so.1", "gomp-98b21ff3")]
    [InlineData("libiomp5md.dll", "libiomp5md")]
    public void BareName_matches_load_names_to_files(string name, string bare) =>
        Assert.Equal(bare, NativeLayout.BareName(name));

    [Fact]
    public void Empty_folder_reports_the_first_missing_file()
    {
        var dir = Directory.CreateTempSubdirectory("cv-native-").FullName;
        try
        {
            var plan = NativeLayout.ForCurrentPlatform();
            Assert.False(plan.IsComplete(dir));
            Assert.NotNull(plan.Missing(dir));
            Assert.Empty(plan.FilesIn(dir));
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Fact]
    public void Module_deps_are_complete_and_in_dependency_order()
    {
        if (!OperatingSystem.IsLinux()) return;
        var files = NativeLayout.ForCurrentPlatform().FilesIn(TestPaths.ModuleDeps).Select(Path.GetFileName).ToList();
        Assert.Equal(["libc10.so", "libtorch_cpu.so", "libtorch.so", "libLibTorchSharp.so"], files.Skip(1));
        Assert.StartsWith("libgomp-", files[0]);
    }
}
