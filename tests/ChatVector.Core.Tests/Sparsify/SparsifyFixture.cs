using ChatVector.Core.Format;
using ChatVector.Core.Runtime;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Sparsify;

/// <summary>A float32 vector tensor held in memory, read a chunk at a time like any source; counts its reads.</summary>
internal sealed class ArraySource(string name, float[] values, long[] shape, DType dtype = DType.F32) : ITensorSource
{
    public string Name { get; } = name;
    public DType DType => dtype;
    public long[] Shape { get; } = shape;
    public long ElementCount => values.Length;
    public long ByteLength => values.Length * 4L;
    public int Reads;

    public torch.Tensor ReadChunk(long firstElement, long count, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, count);
        Interlocked.Increment(ref Reads);
        using var f32 = torch.tensor(values.AsSpan((int)firstElement, (int)count).ToArray());
        return f32.to(TorchTypes.ToScalarType(DType, Name));
    }

    public void CopyBytes(long byteOffset, Span<byte> destination, ComputeContext context) => throw new NotSupportedException();
}

/// <summary>A float32 vector tensor held in memory that also writes its values straight into the caller's memory, as stored and chat-vector tensors do.</summary>
internal sealed class DirectArraySource(string name, float[] values, long[] shape) : IFloat32Source
{
    private readonly ArraySource _chunks = new(name, values, shape);
    public string Name => _chunks.Name;
    public DType DType => DType.F32;
    public long[] Shape => _chunks.Shape;
    public long ElementCount => values.Length;
    public long ByteLength => values.Length * 4L;
    public bool CanReadFloat32 => true;

    public torch.Tensor ReadChunk(long firstElement, long count, ComputeContext context) => _chunks.ReadChunk(firstElement, count, context);

    public void ReadFloat32(long firstElement, Span<float> destination, ComputeContext context)
    {
        ChunkRange.Check(this, firstElement, destination.Length);
        values.AsSpan((int)firstElement, destination.Length).CopyTo(destination);
    }

    public void CopyBytes(long byteOffset, Span<byte> destination, ComputeContext context) => throw new NotSupportedException();
}

internal static class SparsifyFixture
{
    static SparsifyFixture()
    {
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>Values as a bf16 model's delta has them: few distinct magnitudes (8 mantissa bits, narrow range), both signs, zeros.</summary>
    public static float[] Bf16Like(int n, int seed, int distinctExponents = 2)
    {
        var random = new Random(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            if (random.Next(10) == 0) continue; // zeros, as where base and chat agree
            float magnitude = (1 + random.Next(8) / 8f) * MathF.Pow(2, -6 - random.Next(distinctExponents));
            values[i] = random.Next(2) == 0 ? magnitude : -magnitude;
        }
        return values;
    }

    public static SparsifiedTensor Limit(float[] values, SparsifyOptions options, long[]? shape = null, int selectionChunk = 1 << 18, string name = "model.layers.0.mlp.up_proj.weight") =>
        new(new ArraySource(name, values, shape ?? [values.Length]), options, selectionChunk);

    public static SparsifyOptions Options(SparsifyMethod method, double density, double gamma = SparsifyOptions.DefaultGamma,
        double epsilon = SparsifyOptions.DefaultEpsilon, long seed = 42, bool? rescale = null) =>
        new(method, density, gamma, epsilon, seed, rescale ?? SparsifyOptions.RescalesByDefault(method));

    /// <summary>All of a source's values, read as float32 straight into managed memory in chunks of <paramref name="chunk"/> elements.</summary>
    public static float[] ReadAllDirect(IFloat32Source source, int chunk)
    {
        Assert.True(source.CanReadFloat32);
        var all = new float[source.ElementCount];
        var context = ComputeContext.Cpu();
        for (int start = 0; start < all.Length; start += chunk)
            source.ReadFloat32(start, all.AsSpan(start, Math.Min(chunk, all.Length - start)), context);
        return all;
    }

    /// <summary>All of a source's values, read in chunks of <paramref name="chunk"/> elements.</summary>
    public static float[] ReadAll(ITensorSource source, int chunk = 1 << 20)
    {
        var all = new List<float>();
        var context = ComputeContext.Cpu();
        for (long start = 0; start < source.ElementCount; start += chunk)
        {
            using var t = source.ReadChunk(start, Math.Min(chunk, source.ElementCount - start), context);
            all.AddRange(t.data<float>().ToArray());
        }
        return all.ToArray();
    }

    /// <summary>The selection's total order by a plain full sort: |v| ascending, ties by flat index ascending.</summary>
    public static int[] SortedOrder(float[] values) =>
        Enumerable.Range(0, values.Length).OrderBy(i => MathF.Abs(values[i])).ThenBy(i => i).ToArray();

    /// <summary>The output when the order positions [start, end) are kept, computed from a full sort.</summary>
    public static float[] KeepPositions(float[] values, long start, long end, double? divideBy = null)
    {
        var order = SortedOrder(values);
        var expected = new float[values.Length];
        for (long p = Math.Max(0, start); p < Math.Min(end, values.Length); p++)
        {
            int i = order[p];
            expected[i] = divideBy is { } d ? (float)(values[i] / d) : values[i];
        }
        return expected;
    }

    public static void AssertSameBits(float[] expected, float[] actual)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Xunit.Assert.Fail($"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
