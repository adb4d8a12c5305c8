namespace ChatVector.Core.Sparsify;

/// <summary>DARE's keep rule: element i stays when its draw is below density, independently of every other.</summary>
public static class RandomKeep
{
    public static bool Keeps(in CounterRandom random, long index, double density) => random.Uniform(index) < density;
}
