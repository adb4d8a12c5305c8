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
            from source in SourceFiles.Under(tests)
            let text = File.ReadAllText(source.Path)
            where LoadsLibtorch().IsMatch(text) && !text.Contains("UseModuleNatives", StringComparison.Ordinal)
            select source.Relative;
        Assert.Empty(offending);
    }
}
