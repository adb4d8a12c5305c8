using System.Text.RegularExpressions;
using ChatVector.Core.Models;
using Xunit;

namespace ChatVector.Core.Tests.Architecture;

/// <summary>
/// Text the module writes ends its lines with '\n' on every OS, so one merge gives the same bytes on
/// Windows and Linux. On Linux the platform newline is '\n' too, and a writer that uses it passes any
/// test of its output here; so the source of Core is read instead, for the calls that write the platform's
/// newline. Only Format/PortableText.cs, which sets the newline explicitly, may name them.
/// </summary>
public sealed partial class PortableNewlineTests : TempDirTest
{
    [GeneratedRegex(@"\bAppendLine\(|\bWriteLine\(|\bWriteAllLines\(|\bAppendAllLines\(|Environment\.NewLine|Formatting\.Indented")]
    private static partial Regex PlatformNewline();

    [Fact]
    public void No_writer_in_Core_takes_its_line_ends_from_the_platform()
    {
        var core = Path.Combine(TestPaths.RepoRoot, "src", "ChatVector.Core");
        var offending =
            from source in SourceFiles.Under(core)
            let relative = source.Relative
            where relative != "Format/PortableText.cs"
            from numbered in File.ReadLines(source.Path).Select((line, i) => (line, number: i + 1))
            where !numbered.line.TrimStart().StartsWith("//") && PlatformNewline().IsMatch(numbered.line)
            select $"{relative}:{numbered.number}: {numbered.line.Trim()}";
        Assert.Empty(offending);
    }

    [Fact]
    public void The_index_is_written_with_lf_line_ends_byte_for_byte()
    {
        var path = Dir.File(ModelIndex.FileName);
        new ModelIndex(24, new Dictionary<string, string> { ["b"] = "s2.safetensors", ["a"] = "s1.safetensors" }).Write(path);
        var expected = "{\n  \"metadata\": {\n    \"total_size\": 24\n  },\n  \"weight_map\": {\n    \"a\": \"s1.safetensors\",\n    \"b\": \"s2.safetensors\"\n  }\n}";
        Assert.Equal(expected, File.ReadAllText(path));
    }
}
