using ChatVector.Core.Kernels;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Tensors;

/// <summary>The direct float32 reads (no libtorch temporaries) give exactly libtorch's values, whatever the range.</summary>
public sealed class Float32ReadsTests
{
    private static float[] ThroughTorch(ITensorSource source, long first, int count)
    {
        using var chunk = source.ReadChunk(first, count, ComputeContext.Cpu());
        using var wide = chunk.to(torch.ScalarType.Float32);
        return wide.data<float>().ToArray();
    }

    private static float[] Direct(IFloat32Source source, long first, int count)
    {
        var values = new float[count];
        source.ReadFloat32(first, values, ComputeContext.Cpu());
        return values;
    }

    // Ranges that start and end at every place of a SIMD vector and of the scalar tail.
    private static IEnumerable<(long First, int Count)> Ranges(long n) =>
        new (long, int)[] { (0, (int)n), (1, (int)n - 1), (3, 17), (5, 40), (n - 33, 33), (7, 1) }.Where(r => r.Item1 >= 0 && r.Item1 + r.Item2 <= n);

    [Fact]
    public void Stored_bf16_tensors_widen_to_libtorchs_float32()
    {
        using var trio = new Trio();
        foreach (var stored in StoredModel.Open(trio.CpPath).Tensors.Where(t => t.Info.DType == Core.Format.DType.BF16))
        {
            var source = new StoredTensorSource(stored);
            Assert.True(source.CanReadFloat32);
            foreach (var (first, count) in Ranges(source.ElementCount))
                Assert.Equal(ThroughTorch(source, first, count), Direct(source, first, count));
        }
    }

    [Fact]
    public void Chat_vectors_subtract_as_libtorch_does()
    {
        using var trio = new Trio();
        foreach (var vector in trio.Pair().Vectors)
        {
            Assert.True(vector.CanReadFloat32);
            foreach (var (first, count) in Ranges(vector.ElementCount))
                Assert.Equal(ThroughTorch(vector, first, count), Direct(vector, first, count));
        }
    }

    [Fact]
    public void Chat_vector_bytes_for_a_file_are_libtorchs_float32_bytes()
    {
        using var trio = new Trio();
        foreach (var vector in trio.Pair().Vectors.Where(v => v.DType == Core.Format.DType.F32))
            foreach (var (first, count) in Ranges(vector.ElementCount))
            {
                var bytes = new byte[count * 4];
                vector.CopyBytes(first * 4, bytes, ComputeContext.Cpu());
                Assert.Equal(ThroughTorch(vector, first, count), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray());
            }
    }

    [Fact]
    public void Chat_vector_keys_from_bf16_bits_are_the_keys_of_libtorchs_difference()
    {
        using var trio = new Trio();
        var bf16Vectors = trio.Pair().Vectors.Where(v => v.Chat.DType == Core.Format.DType.BF16 && v.Base.DType == Core.Format.DType.BF16).ToList();
        Assert.NotEmpty(bf16Vectors);
        foreach (var vector in bf16Vectors)
        {
            Assert.True(vector.CanReadMagnitudeKeys);
            foreach (var (first, count) in Ranges(vector.ElementCount))
            {
                var keys = new uint[count];
                vector.ReadMagnitudeKeys(first, keys, ComputeContext.Cpu());
                Assert.Equal(ThroughTorch(vector, first, count).Select(v => BitConverter.SingleToUInt32Bits(Math.Abs(v))), keys);
            }
        }
    }

    [Fact]
    public void Keys_of_bf16_differences_cover_every_bit_pattern()
    {
        using var trio = new Trio(); // loads libtorch
        var random = new Random(21);
        // Random bf16 patterns (every exponent, denormals, infinities, NaN), in lengths that end inside and after SIMD vectors.
        foreach (int n in new[] { 1, 15, 16, 17, 1_000, 4_099 })
        {
            var minuend = Enumerable.Range(0, n).Select(_ => (ushort)random.Next(0, 1 << 16)).ToArray();
            var subtrahend = Enumerable.Range(0, n).Select(_ => (ushort)random.Next(0, 1 << 16)).ToArray();
            // A bfloat16 is the upper half of its float32 (the widening is exact); the subtraction is libtorch's.
            using var a = torch.tensor(minuend.Select(u => BitConverter.UInt32BitsToSingle((uint)u << 16)).ToArray());
            using var b = torch.tensor(subtrahend.Select(u => BitConverter.UInt32BitsToSingle((uint)u << 16)).ToArray());
            using var difference = a - b;
            // libtorch's |x| bits, NaN left as libtorch computes it, with the sign cleared.
            var expected = difference.data<float>().ToArray().Select(v => BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu).ToArray();
            var keys = new uint[n];
            Core.Kernels.MagnitudeOrder.KeysOfBf16Difference(minuend, subtrahend, keys);
            Assert.Equal(expected, keys);
        }
    }

    [Fact]
    public void Bf16_rounding_gives_libtorchs_bits_and_one_nan_pattern()
    {
        using var trio = new Trio(); // loads libtorch
        var random = new Random(16);
        // Random bit patterns (every exponent, denormals, infinities), exact ties to even and odd, the largest finite values.
        var values = Enumerable.Range(0, 4_099).Select(_ => BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)))
            .Where(v => !float.IsNaN(v))
            .Concat([BitConverter.UInt32BitsToSingle(0x3F80_8000u), BitConverter.UInt32BitsToSingle(0x3F81_8000u), float.MaxValue, -float.MaxValue, -0f, float.Epsilon])
            .ToArray();
        using var wide = torch.tensor(values);
        using var rounded = wide.to(torch.ScalarType.BFloat16);
        var bytes = new byte[values.Length * 2];
        Assert.True(Bf16Rounding.TryRound(values, bytes));
        Assert.Equal(rounded.bytes.ToArray(), bytes);
        // Every NaN, of either sign and any payload, at the start, in the middle and at the end, is 0xFFFF; the rest is unchanged.
        var expected = (byte[])bytes.Clone();
        foreach (int at in new[] { 0, 17, values.Length / 2, values.Length - 1 })
        {
            values[at] = BitConverter.UInt32BitsToSingle(at % 2 == 0 ? 0x7FC0_0000u : 0xFF80_0001u);
            expected[2 * at] = expected[2 * at + 1] = 0xFF;
        }
        Assert.True(Bf16Rounding.TryRound(values, bytes));
        Assert.Equal(expected, bytes);
    }
}
