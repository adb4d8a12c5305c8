namespace ChatVector.Core.Streaming;

/// <summary>
/// How tensors are streamed: bytes per chunk (the unit read, computed and written) and how many
/// chunks are in flight at once. Peak memory is about <c>(Parallelism + 1) × ChunkBytes</c> for the
/// output buffers plus a few times that for float32 temporaries, whatever the model's size.
/// </summary>
public sealed record StreamingOptions(int ChunkBytes = 4 << 20, int Parallelism = 2)
{
    public static StreamingOptions Default { get; } = new(ChunkBytes: 4 << 20, Parallelism: Math.Clamp(Environment.ProcessorCount, 2, 4));
}
