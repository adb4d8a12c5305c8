using ChatVector.Core.Kernels;
using Xunit;

namespace ChatVector.Core.Tests.Kernels;

/// <summary>
/// The magnitude trim's mask (TIES, Breadcrumbs) against its element-by-element rule written out here, bit for bit:
/// bounds whose keys are tied by many elements, whose indices fall inside a SIMD vector, on a vector's edge, before or
/// after the span, and the open bounds First and End.
/// </summary>
public class TrimKernelTests
{
    public static TheoryData<int, long> Spans => new()
    {
        { 5, 0 },        // shorter than a vector: the tail alone
        { 64, 0 },
        { 10_007, 0 },
        { 10_007, 123_456_789_012 }, // a chunk far into a large tensor
    };

    [Theory]
    [MemberData(nameof(Spans))]
    public void Trim_equals_its_element_by_element_rule(int length, long firstElement)
    {
        var values = SpecialFloats.Values(length, 3);
        var keys = values.Select(MagnitudeOrder.Key).Distinct().OrderBy(k => k).ToArray();
        var random = new Random(7);
        var points = new List<OrderPoint> { OrderPoint.First, OrderPoint.End };
        foreach (long offset in new long[] { -9, -1, 0, 1, 7, 8, 9, 15, 16, 17, length / 2, length - 9, length - 1, length, length + 3 })
            points.Add(new OrderPoint(keys[random.Next(keys.Length)], firstElement + offset));
        // The most tied key (a threshold inside a tie), with its index inside a vector and on a vector's edge.
        uint tied = values.GroupBy(MagnitudeOrder.Key).OrderByDescending(g => g.Count()).First().Key;
        points.Add(new OrderPoint(tied, firstElement + length / 3));
        points.Add(new OrderPoint(tied, firstElement + 32));
        points.Add(new OrderPoint(0x7FFF_FFFFu, firstElement + 1)); // the largest key a float has (a NaN)
        points.Add(new OrderPoint(0, firstElement + 3));

        foreach (var lower in points)
            foreach (var upper in points)
            {
                var expected = values.Select((v, i) =>
                {
                    var point = new OrderPoint(MagnitudeOrder.Key(v), firstElement + i);
                    return point >= lower && point < upper ? v : 0f;
                }).ToArray();
                var actual = (float[])values.Clone();
                TrimKernel.Apply<float>(actual, firstElement, lower, upper, divisor: null);
                Assert.True(SpecialFloats.Bits(expected).SequenceEqual(SpecialFloats.Bits(actual)), $"lower {lower}, upper {upper}");
            }
    }

    [Fact]
    public void Trim_equals_its_rule_for_random_bounds_over_every_key_and_index()
    {
        // Keys anywhere in uint's range (End's and beyond 0x7FFF_FFFF included), data holding the largest key a float has
        // (0x7FFF_FFFF, both signs), bounds at indices far outside the span (long.MinValue, long.MaxValue), spans of every
        // length up to a few vectors of any width, and chunks at the end of the index range.
        var random = new Random(11);
        uint[] specialKeys = [0, 1, 0x7F7F_FFFF, 0x7F80_0000, 0x7FC0_0000, 0x7FFF_FFFE, 0x7FFF_FFFF];
        long[] farIndices = [long.MinValue, long.MinValue + 1, -1, long.MaxValue - 1, long.MaxValue];
        for (int trial = 0; trial < 20_000; trial++)
        {
            int length = random.Next(0, 80);
            long first = random.Next(4) switch { 0 => 0, 1 => random.Next(1000), 2 => 123_456_789_012, _ => long.MaxValue - 200 };
            var bits = Enumerable.Range(0, length).Select(_ =>
                (random.Next(3) == 0 ? specialKeys[random.Next(specialKeys.Length)] : 0x3F80_0000u + (uint)random.Next(5)) // ties
                | (random.Next(2) == 0 ? 0x8000_0000u : 0)).ToArray();
            OrderPoint Bound() => random.Next(6) switch
            {
                0 => OrderPoint.First,
                1 => OrderPoint.End,
                _ => new OrderPoint(
                    random.Next(5) switch
                    {
                        0 => specialKeys[random.Next(specialKeys.Length)],
                        1 => (uint)random.NextInt64(0x8000_0000L, 0x1_0000_0000L),
                        2 => 0x3F80_0000u + (uint)random.Next(5),
                        3 => (uint)random.NextInt64(0, 0x1_0000_0000L),
                        _ => length > 0 ? bits[random.Next(length)] & 0x7FFF_FFFFu : 0,
                    },
                    random.Next(4) == 0 ? farIndices[random.Next(farIndices.Length)] : first + random.Next(-20, length + 20)),
            };
            var (lower, upper) = (Bound(), Bound());
            var expected = bits.Select((b, i) => new OrderPoint(b & 0x7FFF_FFFFu, first + i) is var point && point >= lower && point < upper ? b : 0u).ToArray();
            var values = bits.Select(b => BitConverter.Int32BitsToSingle((int)b)).ToArray();
            TrimKernel.Apply<float>(values, first, lower, upper, divisor: null);
            var actual = values.Select(v => (uint)BitConverter.SingleToInt32Bits(v)).ToArray();
            Assert.True(expected.SequenceEqual(actual), $"trial {trial}: {length} elements from {first}, lower {lower}, upper {upper}");
        }
    }
}
