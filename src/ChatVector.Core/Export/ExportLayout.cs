using ChatVector.Core.Format;
using ChatVector.Core.Integrity;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Export;

/// <summary>One file to write: its prepared header and the sources of its tensors in data order.</summary>
public sealed record OutputFile(string FileName, PreparedFile Prepared, IReadOnlyList<ITensorSource> Sources)
{
    public long TensorBytes => Prepared.Layout.Sum(t => t.ByteLength);
}

/// <summary>The files an export will write, decided before any byte is computed (and all -WhatIf shows).</summary>
public sealed record ExportLayout(IReadOnlyList<OutputFile> Files, ModelIndex? Index)
{
    public long TotalTensorBytes => Files.Sum(f => f.TensorBytes);

    /// <summary>Every byte the export will write: the files with their headers, the index, the side files.</summary>
    public long BytesToWrite(ExportRequest request) =>
        Files.Sum(f => f.Prepared.TotalLength)
        + (Index is null ? 0 : IndexBytesEstimate)
        + (request.IsSingleFile ? 0 : request.SideFiles?.EstimatedBytes() ?? 0);

    // The index is a name-to-file map: its size is bounded by the names it lists (with room for the JSON around them).
    private long IndexBytesEstimate => 4096 + Index!.WeightMap.Sum(kv => (long)kv.Key.Length + kv.Value.Length + 16);

    public static ExportLayout Arrange(ExportRequest request)
    {
        DuplicateTensorNamesException.ThrowIfAny(request.Tensors.Select(t => t.Name), "one model");
        RejectNonPortableTarget(request.TargetPath);
        var byName = request.Tensors.ToDictionary(t => t.Name);
        var layouts = request.Tensors.Select(t => new TensorDeclaration(t.Name, t.DType, t.Shape)).ToList();
        var shards = request.IsSingleFile
            ? [new ShardAssignment(Path.GetFileName(request.TargetPath), layouts)]
            : ShardPacker.Pack(layouts, request.MaxShardBytes);

        var files = shards.Select(shard =>
        {
            var prepared = SafeTensorWriter.Prepare(shard.Tensors, FileMetadata(request, shard.Tensors.Count));
            return new OutputFile(shard.FileName, prepared, prepared.Layout.Select(info => byName[info.Name]).ToList());
        }).ToList();

        ModelIndex? index = files.Count > 1
            ? new ModelIndex(files.Sum(f => f.TensorBytes), files.SelectMany(f => f.Sources.Select(s => (s.Name, f.FileName))).ToDictionary(p => p.Name, p => p.FileName))
            : null;
        return new ExportLayout(files, index);
    }

    /// <summary>
    /// The caller's metadata, plus a checksum placeholder of the right length when checksums are wanted.
    /// A checksum entry from anywhere else is dropped: it describes other bytes, and only this export can
    /// know the bytes it writes.
    /// </summary>
    private static IReadOnlyDictionary<string, string> FileMetadata(ExportRequest request, int tensorCount)
    {
        var metadata = new Dictionary<string, string>(request.Metadata ?? new Dictionary<string, string>());
        metadata.Remove(ContentChecksums.MetadataKey);
        if (request.Checksums) metadata[ContentChecksums.MetadataKey] = ContentChecksums.Placeholder(tensorCount);
        return metadata;
    }

    /// <summary>The target's own name (the file of a single-file model, or the model folder) must be one Windows can hold.</summary>
    private static void RejectNonPortableTarget(string targetPath)
    {
        var name = Path.GetFileName(targetPath);
        if (PortableFileName.Problem(name) is { } problem)
            throw new ArgumentException($"{targetPath}: the name '{name}' {problem}; choose another name.");
    }
}
