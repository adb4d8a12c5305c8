using ChatVector.Core.IO;

namespace ChatVector.Core.Export;

/// <summary>
/// The target to replace is held open by another process. An <see cref="IOException"/> with the sharing
/// violation's code, so it is classified as <see cref="IoFailureKind.Busy"/> like the failure it reports.
/// </summary>
public sealed class TargetInUseException : IOException
{
    public TargetInUseException(string message, Exception inner) : base(message, inner) => HResult = IoFailure.SharingViolation;
}
