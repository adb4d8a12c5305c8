using System.Reflection;
using System.Runtime.InteropServices;

namespace ChatVector.Core.Runtime;

/// <summary>
/// Which libtorch native files this platform needs, in load order (dependencies first), and how to
/// find them in a folder. The names come from build/NativeFiles.txt, embedded in this assembly: the
/// same file decides what build/ModuleLayout.targets ships, so the two cannot disagree.
/// </summary>
public sealed record NativeLibraries(string Rid, IReadOnlyList<string> LoadOrder)
{
    internal const string ListResource = "ChatVector.Core.Runtime.NativeFiles.txt";

    private static readonly Lazy<IReadOnlyList<(string Os, string File)>> List = new(ReadList);

    /// <summary>File names; a '*' is a wildcard (libgomp carries a hash in its name). Optional ones start with '?'.</summary>
    public static NativeLibraries ForCurrentPlatform()
    {
        var arch = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            var other => throw new PlatformNotSupportedException($"libtorch is not shipped for {other} processes."),
        };
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        return ForOs(os, arch);
    }

    internal static NativeLibraries ForOs(string os, string arch) =>
        new($"{os}-{arch}", List.Value.Where(e => e.Os == os).Select(e => e.File).ToList());

    /// <summary>Full paths of the files present in <paramref name="dir"/>, in load order.</summary>
    public IEnumerable<string> FilesIn(string dir)
    {
        foreach (var entry in LoadOrder)
        {
            var pattern = entry.TrimStart('?');
            var match = Directory.Exists(dir) ? Directory.GetFiles(dir, pattern).OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault() : null;
            if (match is not null) yield return Path.GetFullPath(match);
        }
    }

    /// <summary>The file in <paramref name="dir"/> that answers a load of <paramref name="name"/>
    /// ("LibTorchSharp", "libtorch.so", ...), or null when the name is not one of ours.</summary>
    public string? Find(string dir, string name)
    {
        var bare = BareName(name);
        return FilesIn(dir).FirstOrDefault(f => string.Equals(BareName(f), bare, StringComparison.OrdinalIgnoreCase));
    }

    public bool IsComplete(string dir) => Missing(dir) is null;

    /// <summary>The first required file absent from <paramref name="dir"/>, or null when all are there.</summary>
    public string? Missing(string dir) =>
        LoadOrder.Where(e => !e.StartsWith('?'))
                 .FirstOrDefault(e => !Directory.Exists(dir) || Directory.GetFiles(dir, e).Length == 0);

    /// <summary>"libLibTorchSharp.so", "LibTorchSharp.dll", "LibTorchSharp" all become "LibTorchSharp";
    /// libgomp-98b21ff3.so.1 becomes "gomp-98b21ff3".</summary>
    public static string BareName(string name)
    {
        var file = Path.GetFileName(name);
        foreach (var suffix in new[] { ".so.1", ".so", ".dll", ".dylib" })
            if (file.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) { file = file[..^suffix.Length]; break; }
        return file.StartsWith("lib", StringComparison.Ordinal) && file.Length > 3 && !file.StartsWith("libiomp", StringComparison.Ordinal)
            ? file[3..] : file;
    }

    /// <summary>"&lt;os&gt; &lt;file&gt;" lines; '#' starts a comment line.</summary>
    private static IReadOnlyList<(string Os, string File)> ReadList()
    {
        using var stream = typeof(NativeLibraries).Assembly.GetManifestResourceStream(ListResource)
            ?? throw new InvalidOperationException($"{ListResource} is not embedded in {typeof(NativeLibraries).Assembly.GetName().Name}: the build is broken.");
        using var reader = new StreamReader(stream);
        var entries = new List<(string, string)>();
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#')) continue;
            if (fields.Length != 2) throw new InvalidDataException($"{ListResource}: expected '<os> <file>', got '{line}'.");
            entries.Add((fields[0], fields[1]));
        }
        return entries;
    }
}
