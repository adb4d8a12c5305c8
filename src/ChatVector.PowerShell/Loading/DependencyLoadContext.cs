using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ChatVector.PowerShell.Loading;

/// <summary>
/// The load context for everything in module/bin/deps (ChatVector.Core, TorchSharp, Newtonsoft.Json,
/// Google.Protobuf, ...), so our versions never clash with assemblies pwsh or other modules loaded.
/// </summary>
/// <remarks>
/// Anything not in deps/ (System.*, System.Management.Automation) falls through to the default
/// context, so shared framework types stay shared. Natives are loaded from deps/ by full path.
/// </remarks>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly string _depsDir;

    public DependencyLoadContext(string depsDir) : base("ChatVector.Dependencies", isCollectible: false)
    {
        _depsDir = depsDir;
    }

    public string DepsDirectory => _depsDir;

    /// <summary>True when <paramref name="name"/> is shipped in deps/ (and so belongs here).</summary>
    public bool Owns(AssemblyName name) => File.Exists(PathOf(name));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = PathOf(assemblyName);
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        foreach (var candidate in NativeFileNames(unmanagedDllName))
        {
            var path = Path.Combine(_depsDir, candidate);
            if (File.Exists(path)) return LoadUnmanagedDllFromPath(path);
        }
        return IntPtr.Zero; // let the runtime's default probing try
    }

    private string PathOf(AssemblyName name) => Path.Combine(_depsDir, $"{name.Name}.dll");

    /// <summary>"LibTorchSharp" may be asked for as-is or with the platform's prefix/suffix.</summary>
    private static IEnumerable<string> NativeFileNames(string name)
    {
        yield return name;
        if (OperatingSystem.IsWindows()) { yield return $"{name}.dll"; yield break; }
        var ext = OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        yield return $"lib{name}{ext}";
        yield return $"{name}{ext}";
    }
}
