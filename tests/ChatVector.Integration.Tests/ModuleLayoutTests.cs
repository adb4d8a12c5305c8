using Xunit;

namespace ChatVector.Integration.Tests;

/// <summary>What the build lays out in module/bin. (The patched libLibTorchSharp.so is checked by
/// tests/ChatVector.NativePatch.Tests, which references the patch tool.)</summary>
public sealed class ModuleLayoutTests
{
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
