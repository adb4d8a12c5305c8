using System.Text.RegularExpressions;
using Xunit;

namespace ChatVector.Core.Tests.Architecture;

/// <summary>
/// A test class that loads libtorch must first point the runtime at the natives the build laid out in the module
/// (TestPaths.UseModuleNatives): the class that happens to run first in a process on a clean clone otherwise fails to
/// find them, and every class after it passes, so the failure shows only in CI's order. Read from the source, since
/// which class runs first is not up to a test.
/// </summary>
public sealed partial class NativeLoadingTests
{
    [GeneratedRegex(@"TorchRuntime\.EnsureLoaded\(")]
    private static partial Regex LoadsLibtorch();

    [Fact]
    public void Every_test_file_that_loads_libtorch_finds_the_module_natives_first()
    {
        var tests = Path.Combine(TestPaths.RepoRoot, "tests", "ChatVector.Core.Tests");
        var offending =
            from file in Directory.EnumerateFiles(tests, "*.cs", SearchOption.AllDirectories)
            let relative = Path.GetRelativePath(tests, file).Replace('\\', '/')
            where !relative.StartsWith("obj/") && !relative.StartsWith("bin/")
            let text = File.ReadAllText(file)
            where LoadsLibtorch().IsMatch(text) && !text.Contains("UseModuleNatives", StringComparison.Ordinal)
            select relative;
        Assert.Empty(offending);
    }
}
