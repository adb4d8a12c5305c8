using System.Runtime.CompilerServices;

namespace ChatVector.Core.Tensors;

/// <summary>How the per-element SIMD loops of a merge are compiled.</summary>
internal static class HotLoop
{
    /// <summary>
    /// Fully optimized from the first call (AggressiveOptimization: tier-0 code measured 1.5 times the user time of a
    /// blocked merge), and never inlined (NoInlining): inlined into a large tier-1 caller, a loop's own small helpers
    /// (Vector.Widen, CopyTo, a private step) ran out of the caller's inlining budget and became calls, first to tier-0
    /// code (8% of a TIES merge's CPU at 8 GB). Compiled alone, everything inside is inlined; the call costs once per
    /// chunk.
    /// </summary>
    public const MethodImplOptions Options = MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining;
}
