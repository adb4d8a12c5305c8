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
}
