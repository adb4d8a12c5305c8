
namespace ChatVector.Core.Kernels;

/// <summary>The random rules' keep test: element i stays when its draw is below its keep probability.</summary>
public static class RandomKeep
{
    /// <summary>
    /// The same test on the draw's integer bits: Uniform(i) = m · 2⁻⁵³ with m = Bits53(i) an integer below 2⁵³, so
    /// Uniform(i) &lt; p exactly when m &lt; p · 2⁵³ (scaling by a power of two is exact), that is when m &lt; ⌈p · 2⁵³⌉.
    /// </summary>
    public static ulong Threshold(double probability) => (ulong)Math.Ceiling(probability * (1UL << 53));
}
