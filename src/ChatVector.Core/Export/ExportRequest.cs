using ChatVector.Core.Format;
using ChatVector.Core.Streaming;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Export;

/// <summary>
/// What to write: the tensors in arrival order, where (a <c>.safetensors</c> file, or a model folder),
/// the shard budget, metadata for every file, and the folder's side files. A computed tensor with NaN
/// or Inf values fails the export unless <paramref name="AllowNonFinite"/>.
/// </summary>
public sealed record ExportRequest(
    string TargetPath,
    IReadOnlyList<ITensorSource> Tensors,
    long MaxShardBytes = ByteSize.DefaultShardSize,
    IReadOnlyDictionary<string, string>? Metadata = null,
    bool Force = false,
    OutputSideFiles? SideFiles = null,
    bool Checksums = false,
    // Chunk size and parallelism; null = StreamingOptions.Default (from the environment). Results must not
    // depend on it: tests export the same sources under several settings and compare the bytes.
    StreamingOptions? Streaming = null,
    bool AllowNonFinite = false)
{
    /// <summary>Full, without a trailing separator (see <see cref="StagedTarget.Normalize"/>).</summary>
    public string TargetPath { get; init; } = StagedTarget.Normalize(TargetPath);

    /// <summary>A target ending in .safetensors is one file; anything else is a model folder.</summary>
    public bool IsSingleFile => TargetPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What an export wrote: its layout, and the computed tensors with NaN/Inf it was allowed to write.</summary>
public sealed record ExportOutcome(ExportLayout Layout, IReadOnlyList<NonFiniteTensor> NonFinite)
{
    /// <summary>Leftovers of earlier exports, or the replaced target, that could not be deleted.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>Where an export stands, reported after each chunk written.</summary>
public sealed record ExportProgress(int TensorsDone, int TensorsTotal, long BytesDone, long BytesTotal, string CurrentTensor, string CurrentFile);
