using ChatVector.Core.Native;
using Xunit;

namespace ChatVector.Integration.Tests;

/// <summary>The module's copy of libLibTorchSharp.so must carry the weak GLIBCXX_3.4.32 requirement.
/// ElfVersionNeedPatcher.cs is compiled into this project as a linked file, not referenced from Core.</summary>
public sealed class ShippedNativeTests
{
    [Fact]
    public void Shipped_libLibTorchSharp_has_GLIBCXX_3_4_32_marked_weak()
    {
        if (!OperatingSystem.IsLinux()) return; // only the linux-x64 copy is patched
        var lib = Path.Combine(RepoPaths.DepsDir, "libLibTorchSharp.so");
        Assert.True(File.Exists(lib), $"{lib} missing: build the solution first");

        var requirement = Assert.Single(ElfVersionNeedPatcher.ListRequirements(lib), r => r.Version == "GLIBCXX_3.4.32");
        Assert.True(requirement.IsWeak, $"flags 0x{requirement.Flags:x}");
        Assert.Equal("libstdc++.so.6", requirement.Library);
    }

    [Fact]
    public void Module_layout_keeps_dependencies_out_of_the_root_folder()
    {
        var bin = Path.GetDirectoryName(RepoPaths.DepsDir)!;
        Assert.True(File.Exists(Path.Combine(bin, "ChatVector.PowerShell.dll")));
        Assert.False(File.Exists(Path.Combine(bin, "ChatVector.Core.dll")), "Core must live in deps/ so the default context cannot load it");
        Assert.False(File.Exists(Path.Combine(bin, "TorchSharp.dll")));
        Assert.True(File.Exists(Path.Combine(RepoPaths.DepsDir, "TorchSharp.dll")));
        Assert.False(File.Exists(Path.Combine(RepoPaths.DepsDir, "System.Management.Automation.dll")), "pwsh provides the engine");
    }
}
