using ChatVector.Core.Export;
using ChatVector.Core.Tests.Format;
using Xunit;

namespace ChatVector.Core.Tests.Export;

public class FreeSpaceTests
{
    [Fact]
    public void Too_little_space_names_the_needed_and_available_bytes()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InsufficientSpaceException>(() => FreeSpace.Require(dir.File("out"), 5000, _ => 4999));
        Assert.Equal(5000, e.NeededBytes);
        Assert.Equal(4999, e.AvailableBytes);
        Assert.Contains("5000 bytes", e.Message);
        Assert.Contains("4999 bytes", e.Message);
    }

    [Fact]
    public void Enough_space_passes()
    {
        using var dir = new TempDir();
        FreeSpace.Require(dir.File("out"), 5000, _ => 5000);
    }

    [Fact]
    public void A_target_in_folders_not_made_yet_asks_the_nearest_existing_one()
    {
        using var dir = new TempDir();
        string? asked = null;
        FreeSpace.Require(Path.Combine(dir.Path, "new", "deeper", "out"), 1, folder => { asked = folder; return 1; });
        Assert.Equal(dir.Path, asked);
    }

    [Fact]
    public void The_filesystem_figure_is_a_real_one()
    {
        using var dir = new TempDir();
        Assert.InRange(FreeSpace.Available(dir.Path), 1, long.MaxValue);
    }
}
