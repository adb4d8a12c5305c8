using ChatVector.Core.Export;
using Xunit;

namespace ChatVector.Core.Tests.Export;

/// <summary>
/// The free space asked for is that of the target's folder itself, not of the drive or root it is under: a
/// folder can be another filesystem mounted there (on Windows also a junction, or a UNC share).
/// </summary>
public sealed class FreeSpaceOfFolderTests
{
    [ChatVector.Tests.LinuxFact("needs a filesystem mounted below / whose free space is known: procfs reports none")]
    public void A_folder_on_a_filesystem_mounted_below_the_root_gets_that_filesystems_figure()
    {
        Assert.Equal(0, FreeSpace.Available("/proc/self")); // procfs, mounted at /proc, has no free space
        Assert.InRange(FreeSpace.Available("/"), 1, long.MaxValue); // the root it is under has some
    }
}
