using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using Xunit;

namespace ChatVector.Core.Tests.Tensors;

/// <summary>
/// A row-mapped tensor's values, read in chunks that cut rows anywhere, against each row computed in float64 from the
/// stored values: copied rows keep their bytes, averages and zeros as defined, padding rows the mean of the others.
/// </summary>
public sealed class RowMappedTensorTests : TempDirTest
{
    private const int Width = 5;

    public RowMappedTensorTests()
    {
        TestPaths.UseModuleNatives(); // first in the process on a clean clone: libtorch is found in the built module
        ChatVector.Core.Runtime.TorchRuntime.EnsureLoaded();
    }

    private (IReadOnlyList<ITensorSource> Inputs, float[][] Values) Inputs(string dtype)
    {
        var random = new Random(7);
        float[] Rows(int rows) => Enumerable.Range(0, rows * Width).Select(_ => Bf16.ToFloat(Bf16.FromFloat(random.NextSingle() - 0.5f))).ToArray();
        var values = new[] { Rows(4), Rows(6) };
        string path = Path.Combine(Dir.Path, "inputs.safetensors");
        byte[] Bytes(float[] v) => dtype == "BF16" ? TensorBytes.Bf16(v) : TensorBytes.F32(v);
        SafeTensorsWriter.Write(path, [("a", dtype, [4L, Width], Bytes(values[0])), ("b", dtype, [6L, Width], Bytes(values[1]))]);
        var model = StoredModel.Open(path);
        return ([new StoredTensorSource(model.Find("a")!), new StoredTensorSource(model.Find("b")!)], values);
    }

    private static readonly RowSource[] Rows =
    [
        RowSource.Copy(0, 2), RowSource.Copy(0, 3), RowSource.Copy(1, 0), RowSource.Average(0), RowSource.Zero,
        RowSource.Copy(1, 5), RowSource.Mean, RowSource.Copy(1, 1), RowSource.Mean,
    ];
    private static readonly (int, long)[][] Averages = [[(0, 1), (1, 4)]];

    private static double[] Expected(float[][] values, bool roundToBf16)
    {
        double[] Row(RowSource source) => source.Kind switch
        {
            RowKind.Copy => values[source.Input].Skip((int)source.Row * Width).Take(Width).Select(v => (double)v).ToArray(),
            RowKind.Average => Enumerable.Range(0, Width).Select(c => Averages[(int)source.Row].Average(m => (double)values[m.Item1][m.Item2 * Width + c])).ToArray(),
            _ => new double[Width],
        };
        var tokenRows = Rows.Where(r => r.Kind != RowKind.Mean).Select(Row).ToList();
        var mean = Enumerable.Range(0, Width).Select(c => tokenRows.Average(r => r[c])).ToArray();
        double Round(double v) => roundToBf16 ? Bf16.ToFloat(Bf16.FromFloat((float)v)) : (float)v;
        return Rows.SelectMany(r => r.Kind == RowKind.Mean ? mean : Row(r)).Select(Round).ToArray();
    }

    [Theory]
    [InlineData("F32", 7)]
    [InlineData("F32", 45)]
    [InlineData("BF16", 3)]
    [InlineData("BF16", 11)]
    public void Chunks_anywhere_in_the_rows_read_each_row_from_its_source(string dtype, int chunk)
    {
        var (inputs, values) = Inputs(dtype);
        var tensor = new RowMappedTensor("mapped", inputs[0].DType, [Rows.Length, Width], inputs, Rows, Averages);
        var expected = Expected(values, dtype == "BF16");
        var actual = new List<double>();
        for (long first = 0; first < tensor.ElementCount; first += chunk)
        {
            long count = Math.Min(chunk, tensor.ElementCount - first);
            using var part = tensor.ReadChunk(first, count, ComputeContext.Cpu()).to(TorchSharp.torch.ScalarType.Float64);
            actual.AddRange(part.data<double>().ToArray());
        }
        // Two-row averages of bf16 values are exact in float32, so every value but the padding mean is exact.
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            bool mean = Rows[i / Width].Kind == RowKind.Mean;
            if (mean && dtype == "BF16") Assert.True(Math.Abs(expected[i] - actual[i]) <= Math.Abs(expected[i]) / 128, $"element {i}: {actual[i]} vs {expected[i]}");
            else Assert.Equal(expected[i], actual[i]);
        }
    }

    [Fact]
    public void A_copied_row_keeps_its_stored_bytes()
    {
        var (inputs, _) = Inputs("BF16");
        var tensor = new RowMappedTensor("mapped", DType.BF16, [Rows.Length, Width], inputs, Rows, Averages);
        var written = new byte[tensor.ByteLength];
        tensor.CopyBytes(0, written, ComputeContext.Cpu());
        var stored = new byte[Width * 2];
        inputs[1].CopyBytes(5 * Width * 2, stored, ComputeContext.Cpu());
        Assert.Equal(stored, written.AsSpan(5 * Width * 2, Width * 2).ToArray());
    }
}
