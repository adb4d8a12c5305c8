using System.Runtime.CompilerServices;

namespace ChatVector.Core.Kernels;

/// <summary>How the per-element SIMD loops of a merge are compiled.</summary>
internal static class HotLoop
{
    /// <summary>
    /// Fully optimized from the first call (AggressiveOptimization: these loops run over every element of a merge, and
    /// tier-0 code would run them until tiering caught up), and never inlined (NoInlining): inlined into a large
    /// tier-1 caller, a loop's own small helpers (Vector.Widen, CopyTo, a private step) run out of the caller's
    /// inlining budget and become calls, first to tier-0 code. Compiled alone, everything inside is inlined; the call
    /// costs once per chunk.
    /// </summary>
    public const MethodImplOptions Options = MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining;
}
