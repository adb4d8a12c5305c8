namespace ChatVector.Core.Export;

/// <summary>A computed tensor holds NaN or Inf values: the export stops and removes what it staged.</summary>
public sealed class NonFiniteValuesException(string targetPath, NonFiniteTensor tensor)
    : Exception($"{targetPath}: tensor {tensor} after computing; nothing was written. " +
        "Check -Ratio, or choose a wider -DType (F16 overflows beyond 65504), or look for NaN or Inf in the inputs " +
        "(Measure-ChatVector counts them in vectors and adapters' changes); -AllowNonFinite writes such values anyway.")
{
    public string TargetPath { get; } = targetPath;
    public NonFiniteTensor Tensor { get; } = tensor;
}
