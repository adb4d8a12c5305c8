using System.Text.RegularExpressions;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using Xunit;

namespace ChatVector.Core.Tests.Architecture;

/// <summary>
/// The test kit (tests/ChatVector.TestKit) computes expectations by its own code: it may not reference the project's
/// assemblies, and its expectation proper, Independent/ (the safetensors reader and bf16 by bit manipulation), uses
/// nothing of the kit's writers either, so a bug in a writer cannot hide in the reader that checks it.
/// </summary>
public sealed class TestKitTests
{
    private static readonly System.Reflection.Assembly Kit = typeof(LlamaModelBuilder).Assembly;

    [Fact]
    public void The_kit_references_no_project_assembly()
    {
        var project = Kit.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("ChatVector.", StringComparison.Ordinal));
        Assert.Empty(project);
    }

    [Fact]
    public void The_kit_builds_against_the_TorchSharp_the_module_loads()
    {
        var core = typeof(ChatVector.Core.Models.StoredModel).Assembly;
        static Version? TorchSharp(System.Reflection.Assembly assembly) =>
            assembly.GetReferencedAssemblies().SingleOrDefault(a => a.Name == "TorchSharp")?.Version;
        Assert.NotNull(TorchSharp(Kit));
        Assert.Equal(TorchSharp(core), TorchSharp(Kit));
    }

    [Fact]
    public void The_independent_reader_uses_nothing_else_of_the_kit()
    {
        var others = Kit.GetExportedTypes()
            .Where(t => t.Namespace != typeof(IndependentSafeTensorReader).Namespace)
            .Select(t => t.Name.Split('`')[0]).ToHashSet(StringComparer.Ordinal);
        var folder = Path.Combine(TestPaths.RepoRoot, "tests", "ChatVector.TestKit", "Independent");
        var files = Directory.GetFiles(folder, "*.cs");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotMatch(@"using\s+ChatVector\.TestKit\s*;", text);
            var used = Regex.Matches(text, @"\b[A-Z]\w*\b").Select(m => m.Value).Where(others.Contains).Distinct().ToList();
            Assert.True(used.Count == 0, $"{Path.GetFileName(file)} uses {string.Join(", ", used)} of the kit");
        }
    }
}
