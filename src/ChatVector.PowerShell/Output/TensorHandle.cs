using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.PowerShell.Handles;

namespace ChatVector.PowerShell.Output;

/// <summary>
/// The object that flows through the pipeline: a tensor's name, type and shape, and a lazy source for
/// its values. Holding one costs nothing; values are read or computed only by the cmdlet that consumes it.
/// It lives in the cmdlet assembly because PowerShell only sees types from the default load context.
/// </summary>
public sealed class TensorHandle
{
    internal TensorHandle(ITensorSource source, TensorKind kind, Inheritance inheritance, string? file = null, string? model = null)
    {
        Source = source;
        Kind = kind;
        Inheritance = inheritance;
        File = file;
        Model = model;
        Shape = new PrintableList<long>(source.Shape);
    }

    public string Name => Source.Name;
    /// <summary>The enum itself (it shows as its name, BF16, F32...), so nothing downstream parses text back.</summary>
    public DType DType => Source.DType;
    /// <summary>The dimensions; prints (and exports to CSV) as "[4096, 11008]".</summary>
    public PrintableList<long> Shape { get; }
    /// <summary>The shape as text, for JSON and other consumers that keep only strings.</summary>
    public string ShapeText => Shape.ToString();
    public long ElementCount => Source.ElementCount;
    public long Bytes => Source.ByteLength;
    public TensorKind Kind { get; }
    /// <summary>The file holding a stored tensor; empty for computed ones.</summary>
    public string? File { get; }
    /// <summary>The model folder or file the tensor was read from (for a vector: the chat model).</summary>
    public string? Model { get; }
    /// <summary>For a chat vector: the ratio it is added with (Add-ChatVector -Ratio applies when unset).</summary>
    public double? Ratio { get; set; }
    /// <summary>The transformer layer (from layers.N, h.N or blocks.N in the name), or null outside the layers.</summary>
    public int? Layer => HuggingFaceNames.LayerNumber(Name);
    /// <summary>For a chat vector: the fraction Limit-ChatVector keeps of it, overriding its -Density; between 0 and 1.</summary>
    public double? Density
    {
        get => _density;
        set => _density = value is { } d && !(d >= 0 && d <= 1)
            // No parameter name: PowerShell shows this message when the property is set, and a name would add .NET's "(Parameter ...)".
            ? throw new ArgumentException($"{Name}: Density must be between 0 and 1; it cannot be {d.ToString(System.Globalization.CultureInfo.InvariantCulture)}.")
            : value;
    }
    private double? _density;

    // Internal, not [Hidden]: ConvertTo-Json and Export-Csv walk every public property, hidden or not,
    // and these hold file objects and foreign Newtonsoft tokens.
    internal ITensorSource Source { get; }
    internal Inheritance Inheritance { get; }

    /// <summary>
    /// The whole tensor as a TorchSharp tensor on <paramref name="device"/> (cpu, cuda, cuda:N), in its own
    /// dtype and shape, for work at the prompt. This is the one place a whole tensor is loaded: the
    /// cmdlets never do. The caller owns the result (call Dispose() to free it early).
    /// </summary>
    public object ToTensor(string? device = null)
    {
        var context = new ComputeContext(device, CancellationToken.None);
        using var flat = Source.ReadChunk(0, ElementCount, context);
        return flat.reshape(Source.Shape);
    }

    public override string ToString() => $"{Name} {DType} {ShapeText}";
}
