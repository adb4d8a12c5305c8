using ChatVector.Core.IO;
using Xunit;

namespace ChatVector.Core.Tests.IO;

/// <summary>RangeAllocator against a model of the region kept as one flag per unit: ranges never overlap, free room is reused.</summary>
public sealed class RangeAllocatorTests
{
    [Fact]
    public void Ranges_are_placed_first_fit_and_freed_ranges_merge_with_their_neighbours()
    {
        var region = new RangeAllocator(10);
        Assert.Equal(0, region.TryAllocate(3));
        Assert.Equal(3, region.TryAllocate(3));
        Assert.Equal(6, region.TryAllocate(3));
        Assert.Null(region.TryAllocate(2)); // one unit left
        region.Free(0, 3);
        region.Free(6, 3);
        Assert.Null(region.TryAllocate(5)); // 3 free at 0 and 4 at 6, not together
        region.Free(3, 3);
        Assert.Equal(0, region.Used);
        Assert.Equal(0, region.TryAllocate(10)); // all merged back into one range
    }

    [Fact]
    public void Freeing_a_range_twice_or_one_never_placed_is_refused()
    {
        var region = new RangeAllocator(8);
        Assert.Equal(0, region.TryAllocate(4));
        region.Free(0, 4);
        Assert.Throws<InvalidOperationException>(() => region.Free(0, 4));
        Assert.Throws<InvalidOperationException>(() => region.Free(6, 4));
    }

    [Fact]
    public void Random_placements_never_overlap_and_fit_whenever_a_free_run_is_long_enough()
    {
        const int length = 64;
        var random = new Random(11);
        var region = new RangeAllocator(length);
        var used = new bool[length];
        var placed = new List<(long Start, long Length)>();
        for (int step = 0; step < 5000; step++)
        {
            if (placed.Count > 0 && random.Next(3) == 0)
            {
                var (start, n) = placed[random.Next(placed.Count)];
                placed.Remove((start, n));
                region.Free(start, n);
                for (long i = start; i < start + n; i++) used[i] = false;
                continue;
            }
            int want = random.Next(1, 12);
            long? firstFit = FirstFreeRun(used, want);
            var got = region.TryAllocate(want);
            Assert.Equal(firstFit, got);
            if (got is not { } at) continue;
            for (long i = at; i < at + want; i++) used[i] = true;
            placed.Add((at, want));
            Assert.Equal(used.Count(u => u), region.Used);
        }
    }

    private static long? FirstFreeRun(bool[] used, int length)
    {
        for (int start = 0; start + length <= used.Length; start++)
            if (!used.AsSpan(start, length).Contains(true)) return start;
        return null;
    }
}
