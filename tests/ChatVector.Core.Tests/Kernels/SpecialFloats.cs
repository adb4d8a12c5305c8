namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// Float32 inputs for the kernels' bit-for-bit tests against their element-by-element rules: zeros of both signs, NaN,
/// subnormals, infinities, values near float32's largest, a few bf16 steps of a weight (ties in large numbers, and
/// differences near a small threshold), and values spread over many scales.
/// </summary>
internal static class SpecialFloats
{
    public static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(16) switch
        {
            0 => 0f,
            1 => -0f,
            2 => float.NaN,
            3 => float.Epsilon * random.Next(1, 4) * (random.Next(2) == 0 ? 1 : -1),
            4 => random.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity,
            5 => float.MaxValue / random.Next(1, 3),
            6 or 7 => (random.Next(5) - 2) / 256f,
            8 => (random.Next(5) - 2) / 65536f,
            _ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20))),
        }).ToArray();
    }

    public static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
