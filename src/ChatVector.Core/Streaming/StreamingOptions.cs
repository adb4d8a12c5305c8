using ChatVector.Core.Settings;

namespace ChatVector.Core.Streaming;

/// <summary>
/// How tensors are streamed: bytes per chunk (the unit read, computed and written) and how many
/// chunks are in flight at once. Peak memory is about <c>(Parallelism + 1) × ChunkBytes</c> for the
/// output buffers plus a few times that for float32 temporaries, whatever the model's size.
/// </summary>
public sealed record StreamingOptions(int ChunkBytes = 1 << 20, int Parallelism = 2)
{
    /// <summary>
    /// 1 MB chunks (larger ones cost resident memory in libtorch temporaries and gain no speed), one worker per core;
    /// the settings override them for tuning on a particular server, without a code change
    /// (<see cref="EnvironmentSettings.ChunkMegabytes"/>, <see cref="EnvironmentSettings.Parallelism"/>).
    /// </summary>
    public static StreamingOptions Default { get; } = new(
        ChunkBytes: EnvironmentSettings.ChunkMegabytes << 20,
        Parallelism: EnvironmentSettings.Parallelism);
}
