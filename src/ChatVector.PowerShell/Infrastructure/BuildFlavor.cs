using System.Diagnostics;
using System.Reflection;

namespace ChatVector.PowerShell.Infrastructure;

/// <summary>
/// Whether this module was built optimized. A Debug build works but merges several times slower (its JIT runs the
/// SIMD loops unoptimized), which a user would otherwise only find out from a slow scheduled merge.
/// </summary>
internal static class BuildFlavor
{
    /// <summary>True when the cmdlet assembly or ChatVector.Core was compiled without optimization.</summary>
    public static bool IsDebug { get; } =
        IsUnoptimized(typeof(BuildFlavor).Assembly) || IsUnoptimized(typeof(Core.Runtime.ReproducibleKernels).Assembly);

    /// <summary>"Release" or "Debug", as Get-ChatVectorRuntime reports it.</summary>
    public static string Name => IsDebug ? "Debug" : "Release";

    public const string DebugWarning =
        "This ChatVector module is a Debug build: merges run about 3.5x slower than with a Release build. " +
        "Rebuild it optimized with './build.ps1' (Release by default) or 'dotnet build -c Release', then import it again.";

    // The C# compiler marks an unoptimized assembly by disabling the JIT optimizer in its DebuggableAttribute.
    private static bool IsUnoptimized(Assembly assembly) =>
        assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true;
}
