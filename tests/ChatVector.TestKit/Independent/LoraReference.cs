namespace ChatVector.TestKit.Independent;

/// <summary>A LoRA delta by its definition, in float64 and plain loops: the expectation tests hold computed deltas to.</summary>
public static class LoraReference
{
    /// <summary>
    /// scaling·B·A, B (out × r) and A (r × in) row-major: (out × in), or with <paramref name="transposed"/> its transpose
    /// (in × out), as embeddings and fan_in_fan_out layers store it. Row-major.
    /// </summary>
    public static double[] Delta(float[] a, float[] b, int rank, int outFeatures, int inFeatures, double scaling, bool transposed)
    {
        var delta = new double[(long)outFeatures * inFeatures];
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
            {
                double sum = 0;
                for (int k = 0; k < rank; k++) sum += (double)b[(long)o * rank + k] * a[(long)k * inFeatures + i];
                delta[transposed ? (long)i * outFeatures + o : (long)o * inFeatures + i] = scaling * sum;
            }
        return delta;
    }
}
