using System.Xml.Linq;
using ChatVector.Core.Runtime;
using Xunit;

namespace ChatVector.Core.Tests.Runtime;

/// <summary>
/// Every DLL a win-x64 native of the module imports must load on a clean Windows server: it is shipped
/// beside them, part of Windows, or the Visual C++ runtime, whose absence <see cref="VisualCppRuntime"/>
/// reports by name. Read from the win-x64 packages in the NuGet cache (restored on every OS).
/// </summary>
public sealed class WindowsNativeImportsTests
{
    /// <summary>DLLs every supported Windows (Server 2016 and later) has. api-ms-win-* are API sets of Windows itself (the Universal CRT included).</summary>
    private static readonly HashSet<string> WindowsDlls = new(StringComparer.OrdinalIgnoreCase)
    {
        "KERNEL32.dll", "USER32.dll", "ADVAPI32.dll", "SHELL32.dll", "ole32.dll", "OLEAUT32.dll", "WS2_32.dll", "dbghelp.dll",
        "bcrypt.dll", "CRYPT32.dll", "ntdll.dll", "SHLWAPI.dll", "PSAPI.DLL", "VERSION.dll", "WINMM.dll", "IPHLPAPI.DLL", "Secur32.dll", "RPCRT4.dll", "WINTRUST.dll", "imagehlp.dll",
    };

    private static bool IsWindows(string dll) => WindowsDlls.Contains(dll) || dll.StartsWith("api-ms-win-", StringComparison.OrdinalIgnoreCase);

    private static string NuGetRoot
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            return string.IsNullOrEmpty(root) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages") : root;
        }
    }

    /// <summary>The libtorch version TorchSharp-cpu depends on, from its nuspec.</summary>
    private static string LibTorchVersion()
    {
        var nuspec = XDocument.Load(Path.Combine(NuGetRoot, "torchsharp-cpu", TorchRuntime.TorchSharpVersion, "torchsharp-cpu.nuspec"));
        return nuspec.Descendants().First(e => e.Name.LocalName == "dependency" && (string?)e.Attribute("id") == "libtorch-cpu").Attribute("version")!.Value;
    }

    /// <summary>The win-x64 files the module's layout ships (build/NativeFiles.txt), found in their packages.</summary>
    private static Dictionary<string, string> ShippedWindowsNatives()
    {
        var folders = new[]
        {
            Path.Combine(NuGetRoot, "libtorch-cpu-win-x64", LibTorchVersion(), "runtimes", "win-x64", "native"),
            Path.Combine(NuGetRoot, "torchsharp", TorchRuntime.TorchSharpVersion, "runtimes", "win-x64", "native"),
        };
        var shipped = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in NativeLibraries.ForOs("win", "x64").LoadOrder)
        {
            var name = entry.TrimStart('?');
            var file = folders.Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
            if (file is not null) shipped[name] = file;
            else Assert.True(entry.StartsWith('?'), $"{name}, required by build/NativeFiles.txt, is in none of {string.Join(", ", folders)}");
        }
        return shipped;
    }

    [Fact]
    public void Every_import_of_a_shipped_win_x64_native_is_shipped_part_of_Windows_or_the_named_VC_runtime()
    {
        var shipped = ShippedWindowsNatives();
        Assert.Contains("torch_cpu.dll", shipped.Keys);
        var unaccounted =
            from native in shipped
            from import in PeImports.Of(native.Value)
            where !shipped.ContainsKey(import) && !IsWindows(import) && !VisualCppRuntime.Dlls.Contains(import, StringComparer.OrdinalIgnoreCase)
            select $"{native.Key} imports {import}";
        Assert.Empty(unaccounted);
    }

    [Fact]
    public void The_VC_runtime_named_in_the_error_is_what_the_natives_import()
    {
        var imports = ShippedWindowsNatives().Values.SelectMany(PeImports.Of).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.All(VisualCppRuntime.Dlls, dll => Assert.Contains(dll, imports));
        Assert.Contains("libiomp5md.dll", PeImports.Of(ShippedWindowsNatives()["torch_cpu.dll"]), StringComparer.OrdinalIgnoreCase); // hence not optional
    }

    [Fact]
    public void A_missing_VC_runtime_is_an_error_naming_the_redistributable_and_the_missing_DLLs()
    {
        var e = Assert.Throws<InvalidOperationException>(() => VisualCppRuntime.Require(dll => dll != "VCRUNTIME140_1.dll"));
        Assert.Contains("Microsoft Visual C++ 2015-2022 Redistributable (x64)", e.Message);
        Assert.Contains("VCRUNTIME140_1.dll cannot be loaded", e.Message);
        Assert.Contains("https://aka.ms/vs/17/release/vc_redist.x64.exe", e.Message);
        VisualCppRuntime.Require(_ => true); // all there: no error
    }
}
