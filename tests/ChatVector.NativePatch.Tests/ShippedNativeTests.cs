using Xunit;

namespace ChatVector.NativePatch.Tests;

/// <summary>The build ran the patch on the module's copy of libLibTorchSharp.so (build/ModuleLayout.targets).</summary>
public sealed class ShippedNativeTests
{
    [ChatVector.Tests.LinuxFact("only the linux-x64 libLibTorchSharp.so is patched and laid out on Linux")]
    public void Shipped_libLibTorchSharp_has_GLIBCXX_3_4_32_marked_weak()
    {
        var lib = Path.Combine(NativePaths.ModuleDeps, "libLibTorchSharp.so");
        Assert.True(File.Exists(lib), $"{lib} missing: build the solution first");

        var requirement = Assert.Single(ElfVersionNeedPatcher.ListRequirements(lib), r => r.Version == "GLIBCXX_3.4.32");
        Assert.True(requirement.IsWeak, $"flags 0x{requirement.Flags:x}");
        Assert.Equal("libstdc++.so.6", requirement.Library);
    }
}
