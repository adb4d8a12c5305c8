using System.Reflection;
using System.Runtime.Loader;
using ChatVector.Core.Runtime;

namespace ChatVector.PowerShell.Loading;

/// <summary>
/// The load context for everything in module/bin/deps (ChatVector.Core, TorchSharp, Newtonsoft.Json,
/// Google.Protobuf, ...), so our versions never clash with assemblies pwsh or other modules loaded.
/// </summary>
/// <remarks>
/// Anything not in deps/ (System.*, System.Management.Automation) falls through to the default
/// context, so shared framework types stay shared. Natives are loaded from deps/ by full path, and
/// only those named in build/NativeFiles.txt (asked of Core's <see cref="NativeLibraries"/>, which embeds
/// that list): anything else, libc for one, is left to the runtime's default probing.
/// </remarks>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly string _depsDir;

    public DependencyLoadContext(string depsDir) : base("ChatVector.Dependencies", isCollectible: false)
    {
        _depsDir = depsDir;
    }

    /// <summary>True when <paramref name="name"/> is shipped in deps/ (and so belongs here).</summary>
    public bool Owns(AssemblyName name) => File.Exists(PathOf(name));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = PathOf(assemblyName);
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    /// <remarks>Runs only once Core is loaded (a native load comes from Core or TorchSharp, both in this
    /// context), so asking Core's NativeLibraries here does not load anything early.</remarks>
    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = NativeLibraries.ForCurrentPlatform().Find(_depsDir, unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path); // zero: the runtime's default probing tries
    }

    private string PathOf(AssemblyName name) => Path.Combine(_depsDir, $"{name.Name}.dll");
}
