namespace ChatVector.Core.Sparsify;

/// <summary>DARE's keep rule: element i stays when its draw is below density, independently of every other.</summary>
public static class RandomKeep
{
    public static bool Keeps(in CounterRandom random, long index, double density) => random.Uniform(index) < density;

    /// <summary>
    /// The same rule on the draw's integer bits: Uniform(i) = m · 2⁻⁵³ with m = Bits53(i) an integer below 2⁵³, so
    /// Uniform(i) &lt; density exactly when m &lt; density · 2⁵³ (scaling by a power of two is exact), that is
    /// when m &lt; ⌈density · 2⁵³⌉.
    /// </summary>
    public static ulong Threshold(double density) => (ulong)Math.Ceiling(density * (1UL << 53));
}
