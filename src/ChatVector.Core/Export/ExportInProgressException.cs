namespace ChatVector.Core.Export;

/// <summary>Another export holds the lock beside the target (see <see cref="StagedTarget"/>).</summary>
public sealed class ExportInProgressException(string message, Exception inner) : IOException(message, inner);
