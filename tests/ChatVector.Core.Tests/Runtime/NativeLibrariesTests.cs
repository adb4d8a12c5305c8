using ChatVector.Core.Runtime;
using Xunit;

namespace ChatVector.Core.Tests.Runtime;

public sealed class NativeLibrariesTests
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
        Assert.Equal(bare, NativeLibraries.BareName(name));

    [Theory]
    [InlineData("linux", "?libgomp-*.so.1", "?libhf_tokenizers.so")]
    [InlineData("win", "libiomp5md.dll", "?hf_tokenizers.dll")]
    [InlineData("osx", "?libomp.dylib", "?libhf_tokenizers.dylib")]
    public void Embedded_list_gives_each_os_its_files_dependencies_first(string os, string first, string last)
    {
        var natives = NativeLibraries.ForOs(os, "x64");
        Assert.Equal($"{os}-x64", natives.Rid);
        Assert.Equal(6, natives.LoadOrder.Count); // libtorch's five, then the tokenizers library
        Assert.Equal(first, natives.LoadOrder[0]);
        Assert.Equal(last, natives.LoadOrder[^1]);
    }

    [Fact]
    public void Find_answers_listed_names_only()
    {
        if (!OperatingSystem.IsLinux()) return;
        var natives = NativeLibraries.ForCurrentPlatform();
        Assert.Equal(Path.Combine(Path.GetFullPath(TestPaths.ModuleDeps), "libLibTorchSharp.so"), natives.Find(TestPaths.ModuleDeps, "LibTorchSharp"));
        var gomp = Assert.Single(Directory.GetFiles(TestPaths.ModuleDeps, "libgomp-*.so.1"));
        Assert.Equal(Path.GetFullPath(gomp), natives.Find(TestPaths.ModuleDeps, Path.GetFileName(gomp)));
        Assert.Null(natives.Find(TestPaths.ModuleDeps, "libc"));
    }

    [Fact]
    public void Empty_folder_reports_the_first_missing_file()
    {
        var dir = Directory.CreateTempSubdirectory("cv-native-").FullName;
        try
        {
            var plan = NativeLibraries.ForCurrentPlatform();
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
        var files = NativeLibraries.ForCurrentPlatform().FilesIn(TestPaths.ModuleDeps).Select(Path.GetFileName).ToList();
        Assert.Equal(["libc10.so", "libtorch_cpu.so", "libtorch.so", "libLibTorchSharp.so", "libhf_tokenizers.so"], files.Skip(1));
        Assert.StartsWith("libgomp-", files[0]);
    }
}
