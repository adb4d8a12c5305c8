using ChatVector.Core.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.Core.Inference;

/// <summary>
/// Rotary position embedding ("rotate half"): per-pair inverse frequencies from rope_theta, adjusted
/// by rope_scaling (linear, llama3), turned into cos/sin tables for the positions in use.
/// </summary>
internal sealed class RotaryEmbedding
{
    private readonly double[] _invFreq;

    public RotaryEmbedding(LlamaConfig config)
    {
        int dim = config.HeadDim;
        _invFreq = Enumerable.Range(0, dim / 2)
            .Select(i => Scale(1.0 / Power(config.RopeTheta, 2.0 * i / dim), config.RopeScaling))
            .ToArray();
    }

    public IReadOnlyList<double> InverseFrequencies => _invFreq;

    /// <summary>
    /// b^e from the portable exp and log: the tables, like the rest of an evaluation under pinned kernels
    /// (<see cref="Runtime.ReproducibleKernels"/>), must not change with the server's C library (Math.Pow, Math.Cos and
    /// Math.Sin differ between glibc's variants and Windows'). Its error, a few units of float64, vanishes in float32.
    /// </summary>
    private static double Power(double b, double e) => PortableMath.Exp(PortableMath.Log(b) * e);

    private static double Scale(double invFreq, RopeScaling? scaling)
    {
        switch (scaling?.Type)
        {
            case "linear":
                return invFreq / scaling.Factor;
            case "llama3":
                double old = scaling.OriginalMaxPositionEmbeddings;
                double wavelength = 2 * Math.PI / invFreq;
                if (wavelength > old / scaling.LowFreqFactor) return invFreq / scaling.Factor;
                if (wavelength < old / scaling.HighFreqFactor) return invFreq;
                double smooth = (old / wavelength - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                return (1 - smooth) * invFreq / scaling.Factor + smooth * invFreq;
            default:
                return invFreq;
        }
    }

    /// <summary>cos and sin tables (T, head_dim) for positions start..start+T-1, angles duplicated as cat(a, a).</summary>
    public (Tensor Cos, Tensor Sin) Tables(long start, long count, ScalarType dtype, Device device)
    {
        int half = _invFreq.Length;
        var cos = new float[count * half * 2];
        var sin = new float[count * half * 2];
        for (long t = 0; t < count; t++)
            for (int i = 0; i < half; i++)
            {
                double angle = (start + t) * _invFreq[i];
                float c = (float)PortableTrigonometry.Cos(angle), s = (float)PortableTrigonometry.Sin(angle);
                long row = t * half * 2;
                cos[row + i] = cos[row + half + i] = c;
                sin[row + i] = sin[row + half + i] = s;
            }
        using var cosCpu = tensor(cos, [count, half * 2]);
        using var sinCpu = tensor(sin, [count, half * 2]);
        return (cosCpu.to(dtype, device), sinCpu.to(dtype, device));
    }

    /// <summary>x·cos + rotate_half(x)·sin on (heads, T, head_dim).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
