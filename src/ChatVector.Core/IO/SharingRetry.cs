namespace ChatVector.Core.IO;

/// <summary>
/// Antivirus scanners and the search indexer open a new file for a moment on Windows; a rename of it (or of
/// its folder), or an exclusive open, then fails with a sharing violation although nothing is wrong. Those
/// operations are retried with a growing pause, on Windows only (elsewhere the error means another
/// process holds a lock, which waiting does not cure), and for that error only: any other fails at once.
/// </summary>
public static class SharingRetry
{
    /// <summary>The pauses between tries: doubling from 50 ms, about 6 s in all, long enough for a scan of a new file.</summary>
    public static IReadOnlyList<TimeSpan> Pauses { get; } =
        Enumerable.Range(0, 7).Select(i => TimeSpan.FromMilliseconds(50 << i)).ToList();

    /// <summary>A sharing or lock violation, on Windows.</summary>
    public static bool IsTransient(Exception e) =>
        OperatingSystem.IsWindows() && e is IOException io && IoFailure.Classify(io) == IoFailureKind.Busy;

    public static void Run(Action operation) => Run(operation, IsTransient, Thread.Sleep);

    /// <summary>Runs <paramref name="operation"/>; while it fails with an error <paramref name="isTransient"/> accepts, pauses (<paramref name="pause"/>) and tries again, up to <see cref="Pauses"/>; then the last error stands.</summary>
    public static void Run(Action operation, Func<Exception, bool> isTransient, Action<TimeSpan> pause)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                operation();
                return;
            }
            catch (Exception e) when (attempt < Pauses.Count && isTransient(e))
            {
                pause(Pauses[attempt]);
            }
        }
    }
}
