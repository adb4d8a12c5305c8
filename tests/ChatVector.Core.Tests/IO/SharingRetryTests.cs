using ChatVector.Core.IO;
using Xunit;

namespace ChatVector.Core.Tests.IO;

/// <summary>The retry of renames and exclusive opens that a scanner briefly blocks (Windows), with the failures injected.</summary>
public sealed class SharingRetryTests
{
    private static IOException SharingViolation() => new("The process cannot access the file because it is being used by another process.") { HResult = IoFailure.SharingViolation };

    private static bool Busy(Exception e) => e is IOException io && IoFailure.Classify(io) == IoFailureKind.Busy;

    [Fact]
    public void A_sharing_violation_that_clears_is_retried_after_growing_pauses_and_the_operation_succeeds()
    {
        int calls = 0;
        var pauses = new List<TimeSpan>();
        SharingRetry.Run(() => { if (++calls <= 3) throw SharingViolation(); }, Busy, pauses.Add);
        Assert.Equal(4, calls);
        Assert.Equal([TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)], pauses);
    }

    [Fact]
    public void A_sharing_violation_that_stays_fails_with_it_after_every_pause()
    {
        int calls = 0;
        var pauses = new List<TimeSpan>();
        var last = SharingViolation();
        var e = Assert.Throws<IOException>(() => SharingRetry.Run(() => { calls++; throw last; }, Busy, pauses.Add));
        Assert.Same(last, e);
        Assert.Equal(SharingRetry.Pauses.Count + 1, calls);
        Assert.Equal(SharingRetry.Pauses, pauses);
        Assert.InRange(pauses.Sum(p => p.TotalSeconds), 3, 10); // long enough for a scan, short enough to fail a stuck run
    }

    [Fact]
    public void Any_other_error_fails_at_once()
    {
        int calls = 0;
        var pauses = new List<TimeSpan>();
        Assert.Throws<UnauthorizedAccessException>(() => SharingRetry.Run(() => { calls++; throw new UnauthorizedAccessException(); }, Busy, pauses.Add));
        Assert.Throws<IOException>(() => SharingRetry.Run(() => { calls++; throw new IOException("disk error"); }, Busy, pauses.Add));
        Assert.Equal(2, calls);
        Assert.Empty(pauses);
    }

    [Fact]
    public void Only_Windows_retries_a_sharing_violation()
    {
        // Elsewhere the same code means another process's lock, which waiting does not cure.
        Assert.Equal(OperatingSystem.IsWindows(), SharingRetry.IsTransient(SharingViolation()));
        Assert.False(SharingRetry.IsTransient(new IOException("disk error")));
    }
}
