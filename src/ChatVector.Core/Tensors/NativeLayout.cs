using System.Runtime.InteropServices;

namespace ChatVector.Core.Tensors;

/// <summary>
/// Which libtorch native files this platform needs, in load order (dependencies first), and how to
/// find them in a folder. The same names build/ModuleLayout.targets ships.
/// </summary>
internal sealed record NativeLayout(string Rid, IReadOnlyList<string> LoadOrder)
{
    /// <summary>File names; a '*' is a wildcard (libgomp carries a hash in its name). Optional ones start with '?'.</summary>
    public static NativeLayout ForCurrentPlatform()
    {
        var arch = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            var other => throw new PlatformNotSupportedException($"libtorch is not shipped for {other} processes."),
        };
        if (OperatingSystem.IsWindows())
            return new($"win-{arch}", ["?libiomp5md.dll", "c10.dll", "torch_cpu.dll", "torch.dll", "LibTorchSharp.dll"]);
        if (OperatingSystem.IsMacOS())
            return new($"osx-{arch}", ["?libomp.dylib", "libc10.dylib", "libtorch_cpu.dylib", "libtorch.dylib", "libLibTorchSharp.dylib"]);
        return new($"linux-{arch}", ["?libgomp-*.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so", "libLibTorchSharp.so"]);
    }

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
}
