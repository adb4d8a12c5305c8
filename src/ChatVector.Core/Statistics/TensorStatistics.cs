namespace ChatVector.Core.Statistics;

/// <summary>
/// Running statistics of a tensor (or of several: a layer, a model), combinable chunk by chunk.
/// Mean and variance combine with Chan's parallel formula so long tensors do not lose precision;
/// statistics are over finite values, NaN and Inf are counted apart.
/// </summary>
public sealed class TensorStatistics
{
    public long Elements { get; private set; }
    public long Finite { get; private set; }
    public long NaNCount { get; private set; }
    public long InfCount { get; private set; }
    public long Zeros { get; private set; }
    public double Mean { get; private set; }
    private double _m2;
    public double SumOfSquares { get; private set; }
    public double Min { get; private set; } = double.PositiveInfinity;
    public double Max { get; private set; } = double.NegativeInfinity;
    /// <summary>Σ x·y with the reference, when one was given.</summary>
    public double Dot { get; private set; }
    public double ReferenceSumOfSquares { get; private set; }
    public bool HasReference { get; private set; }
    /// <summary>Σ b² of the base tensor a vector was taken from, when known.</summary>
    public double BaseSumOfSquares { get; private set; }
    public bool HasBase { get; private set; }

    /// <summary>Mean, min and max for display: NaN when no value was finite (rather than the running defaults).</summary>
    public double FiniteMean => Finite == 0 ? double.NaN : Mean;
    public double FiniteMin => Finite == 0 ? double.NaN : Min;
    public double FiniteMax => Finite == 0 ? double.NaN : Max;
    public double L2Norm => Math.Sqrt(SumOfSquares);
    public double Rms => Finite == 0 ? double.NaN : Math.Sqrt(SumOfSquares / Finite);
    public double Std => Finite == 0 ? double.NaN : Math.Sqrt(_m2 / Finite);
    public double MaxAbs => Finite == 0 ? double.NaN : Math.Max(Math.Abs(Min), Math.Abs(Max));
    public double ZeroFraction => Elements == 0 ? double.NaN : (double)Zeros / Elements;
    public double? Cosine => HasReference ? Dot / Math.Sqrt(SumOfSquares * ReferenceSumOfSquares) : null;
    public double? RelativeNorm => HasBase ? Math.Sqrt(SumOfSquares / BaseSumOfSquares) : null;

    /// <summary>Adds one chunk's figures (finite-value mean and M2 as computed over that chunk).</summary>
    public void AddChunk(long elements, long finite, long nan, long inf, long zeros, double chunkMean, double chunkM2, double sumOfSquares, double min, double max)
    {
        Elements += elements;
        NaNCount += nan;
        InfCount += inf;
        Zeros += zeros;
        SumOfSquares += sumOfSquares;
        if (finite > 0)
        {
            Min = Math.Min(Min, min);
            Max = Math.Max(Max, max);
        }
        CombineMoments(finite, chunkMean, chunkM2);
    }

    public void AddReference(double dot, double referenceSumOfSquares)
    {
        HasReference = true;
        Dot += dot;
        ReferenceSumOfSquares += referenceSumOfSquares;
    }

    public void AddBase(double baseSumOfSquares)
    {
        HasBase = true;
        BaseSumOfSquares += baseSumOfSquares;
    }

    /// <summary>Folds another tensor's statistics into this one (per layer, per model).</summary>
    public void Add(TensorStatistics other)
    {
        AddChunk(other.Elements, other.Finite, other.NaNCount, other.InfCount, other.Zeros, other.Mean, other._m2, other.SumOfSquares, other.Min, other.Max);
        if (other.HasReference) AddReference(other.Dot, other.ReferenceSumOfSquares);
        if (other.HasBase) AddBase(other.BaseSumOfSquares);
    }

    private void CombineMoments(long count, double mean, double m2)
    {
        if (count == 0) return;
        long total = Finite + count;
        double delta = mean - Mean;
        Mean += delta * count / total;
        _m2 += m2 + delta * delta * Finite * count / total;
        Finite = total;
    }
}
