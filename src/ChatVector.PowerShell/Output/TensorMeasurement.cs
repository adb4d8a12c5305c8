using ChatVector.Core.Statistics;

namespace ChatVector.PowerShell.Output;

/// <summary>Measure-ChatVector's answer for one tensor, one layer, or the whole set.</summary>
public sealed class TensorMeasurement
{
    internal TensorMeasurement(string scope, string name, string? dtype, TensorStatistics s, string? model = null, string? @base = null)
    {
        Scope = scope;
        Model = model;
        Base = @base;
        Name = name;
        DType = dtype;
        Elements = s.Elements;
        L2Norm = s.L2Norm;
        Rms = s.Rms;
        (Mean, Std, Min, Max) = (s.FiniteMean, s.Std, s.FiniteMin, s.FiniteMax);
        MaxAbs = s.MaxAbs;
        ZeroFraction = s.ZeroFraction;
        NaNCount = s.NaNCount;
        InfCount = s.InfCount;
        RelativeNorm = s.RelativeNorm;
        Cosine = s.Cosine;
    }

    /// <summary>Tensor, Layer or Total.</summary>
    public string Scope { get; }
    /// <summary>The model (or vector's chat model, or adapter) the tensor came from: several on one pipeline are told apart, and summed apart.</summary>
    public string? Model { get; }
    /// <summary>For a chat vector: the base model it was taken from (one chat model over two bases is two vectors, summed apart).</summary>
    public string? Base { get; }
    public string Name { get; }
    public string? DType { get; }
    public long Elements { get; }
    public double L2Norm { get; }
    public double Rms { get; }
    public double Mean { get; }
    public double Std { get; }
    public double Min { get; }
    public double Max { get; }
    public double MaxAbs { get; }
    public double ZeroFraction { get; }
    public long NaNCount { get; }
    public long InfCount { get; }
    /// <summary>‖vector‖ / ‖base tensor‖, for vectors whose base is known.</summary>
    public double? RelativeNorm { get; }
    /// <summary>Cosine similarity with the same-named tensor of -Reference.</summary>
    public double? Cosine { get; }
}
