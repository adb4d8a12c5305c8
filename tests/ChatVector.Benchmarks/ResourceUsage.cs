using System.Runtime.InteropServices;

namespace ChatVector.Benchmarks;

/// <summary>
/// CPU time from getrusage (Linux): user + system seconds of this process, or of every child it has waited for.
/// CPU time is the stable figure on this VM, whose disk speed moves by a factor of several within the hour.
/// </summary>
internal static class ResourceUsage
{
    private const int Self = 0, Children = -1;

    public readonly record struct CpuTime(double UserSeconds, double SystemSeconds)
    {
        public double Seconds => UserSeconds + SystemSeconds;
        public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.UserSeconds - b.UserSeconds, a.SystemSeconds - b.SystemSeconds);
    }

    /// <summary>All threads of this process so far.</summary>
    public static CpuTime OfSelf() => Get(Self);

    /// <summary>
    /// Every terminated child this process has waited for, with the children they waited for (the runtime's Process
    /// class reaps each child): the difference across one child's run is that child's CPU time, `dotnet pwsh`'s
    /// muxer and the pwsh it starts together.
    /// </summary>
    public static CpuTime OfWaitedChildren() => Get(Children);

    private static CpuTime Get(int who)
    {
        if (!OperatingSystem.IsLinux()) return new CpuTime(double.NaN, double.NaN);
        if (getrusage(who, out var usage) != 0) throw new InvalidOperationException($"getrusage failed ({Marshal.GetLastPInvokeError()})");
        return new CpuTime(usage.UserSeconds + usage.UserMicroseconds / 1e6, usage.SystemSeconds + usage.SystemMicroseconds / 1e6);
    }

    /// <summary>The start of struct rusage on 64-bit Linux (two struct timeval), then the 14 longs it ends with.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVcsw, NIvcsw;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);
}
