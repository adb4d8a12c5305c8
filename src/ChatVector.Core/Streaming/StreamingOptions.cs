namespace ChatVector.Core.Streaming;

/// <summary>
/// How tensors are streamed: bytes per chunk (the unit read, computed and written) and how many
/// chunks are in flight at once. Peak memory is about <c>(Parallelism + 1) × ChunkBytes</c> for the
/// output buffers plus a few times that for float32 temporaries, whatever the model's size.
/// </summary>
public sealed record StreamingOptions(int ChunkBytes = 1 << 20, int Parallelism = 2)
{
    /// <summary>
    /// 1 MB chunks (larger ones cost resident memory in libtorch temporaries and gain no speed), one worker per core. CHATVECTOR_CHUNK_MB and CHATVECTOR_PARALLELISM override them
    /// (for tuning on a particular server, without a code change).
    /// </summary>
    public static StreamingOptions Default { get; } = new(
        ChunkBytes: FromEnvironment("CHATVECTOR_CHUNK_MB", 1, 1, 1024) << 20,
        Parallelism: FromEnvironment("CHATVECTOR_PARALLELISM", Math.Clamp(Environment.ProcessorCount, 2, 8), 1, 64));

    internal static int FromEnvironment(string name, int fallback, int min, int max) =>
        Runtime.EnvironmentNumbers.Int(name) is { } value ? Math.Clamp(value, min, max) : fallback;
}
