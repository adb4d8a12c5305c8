using ChatVector.Core.Statistics;

namespace ChatVector.PowerShell.Output;

/// <summary>Show-SafeTensor's answer: the first values and basic statistics of one tensor.</summary>
public sealed class TensorPreview
{
    internal TensorPreview(TensorHandle handle, double[] first, TensorStatistics s)
    {
        Name = handle.Name;
        DType = handle.DType.ToString();
        Shape = handle.Shape;
        First = new PrintableList<double>(first);
        (Mean, Std, Min, Max) = (s.FiniteMean, s.Std, s.FiniteMin, s.FiniteMax);
        NaNCount = s.NaNCount;
        InfCount = s.InfCount;
    }

    public string Name { get; }
    public string DType { get; }
    public PrintableList<long> Shape { get; }
    public string ShapeText => Shape.ToString();
    public PrintableList<double> First { get; }
    public double Mean { get; }
    public double Std { get; }
    public double Min { get; }
    public double Max { get; }
    public long NaNCount { get; }
    public long InfCount { get; }
}
