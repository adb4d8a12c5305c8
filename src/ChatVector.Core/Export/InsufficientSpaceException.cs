namespace ChatVector.Core.Export;

/// <summary>The target's filesystem has less free space than the export will write; nothing was written.</summary>
public sealed class InsufficientSpaceException(string targetPath, string checkedPath, long neededBytes, long availableBytes)
    : IOException($"{targetPath}: the export needs {Format.ByteSize.Format(neededBytes)} ({neededBytes} bytes), but the filesystem of {checkedPath} " +
        $"has {Format.ByteSize.Format(availableBytes)} ({availableBytes} bytes) free; nothing was written. Free some space or choose another target.")
{
    public string TargetPath { get; } = targetPath;
    public long NeededBytes { get; } = neededBytes;
    public long AvailableBytes { get; } = availableBytes;
}
