using ChatVector.Core.Format;
using ChatVector.Core.Integrity;
using ChatVector.Core.Streaming;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Export;

/// <summary>
/// Writes tensors to a safetensors file or a sharded model folder, streaming: each tensor is read or
/// computed a chunk at a time as it is written, the next chunks prepared while the current one is
/// written. All-or-nothing through <see cref="StagedTarget"/>: what headers and side files can tell (names, sizes,
/// free space, the JSON side files to patch) is checked before the first byte; NaN/Inf in a computed tensor is found while it is written
/// and removes the staged output.
/// </summary>
public static class ModelExporter
{
    public static ExportOutcome Export(ExportRequest request, ComputeContext context, Action<ExportProgress>? progress = null) =>
        Export(request, ExportLayout.Arrange(request), context, progress);

    /// <summary>Writes a layout already arranged from <paramref name="request"/> (as shown to -WhatIf).</summary>
    public static ExportOutcome Export(ExportRequest request, ExportLayout layout, ComputeContext context, Action<ExportProgress>? progress = null, Func<string, long>? availableBytes = null)
    {
        // The inputs' side files this export patches are read and checked before anything is staged: a malformed
        // tokenizer_config.json in the model stops the export with nothing written, not after its last shard.
        if (!request.IsSingleFile) request.SideFiles?.Check();
        // Staging first: it proves the target's folder is writable and not locked by another export, so a
        // folder that may not be written says so (not "no space", which a pseudo file system also reports).
        // A failed space check then disposes the empty staging folder: nothing is left behind.
        using var target = StagedTarget.Begin(request.TargetPath, isFolder: !request.IsSingleFile, request.Force);
        FreeSpace.Require(request.TargetPath, layout.BytesToWrite(request), availableBytes);
        var sourcesInWriteOrder = layout.Files.SelectMany(f => f.Sources);
        var tally = new NonFiniteTally();
        var nonFinite = new List<NonFiniteTensor>();
        using (var chunks = new ChunkStream(sourcesInWriteOrder, request.Streaming ?? StreamingOptions.Default, context, tally.Observe))
        {
            var tracker = new ProgressTracker(layout, progress);
            foreach (var file in layout.Files)
            {
                var path = request.IsSingleFile ? target.StagingPath : Path.Combine(target.StagingPath, file.FileName);
                var sources = file.Sources.ToDictionary(s => s.Name);
                var digests = new List<string>();
                SafeTensorWriter.Write(path, file.Prepared, (info, stream) =>
                {
                    var source = sources[info.Name];
                    tracker.Starting(source, file.FileName);
                    var hashing = request.Checksums ? new HashingWriteStream(stream) : null;
                    chunks.CopyNextTo(source, hashing ?? stream, tracker.Wrote);
                    if (hashing is not null) digests.Add(ContentChecksums.Hex(hashing.Hash));
                    if (tally.For(source) is { } bad)
                    {
                        if (!request.AllowNonFinite) throw new NonFiniteValuesException(request.TargetPath, bad);
                        nonFinite.Add(bad);
                    }
                    tracker.Finished();
                }, overwrite: false, context.Cancellation,
                    // The checksums, known once the data is written, go into the header through the writing handle.
                    finalHeader: request.Checksums ? () => ContentChecksums.Patched(file.Prepared.HeaderWithLength, digests, path) : null);
            }
        }
        if (!request.IsSingleFile)
        {
            layout.Index?.Write(Path.Combine(target.StagingPath, Models.ModelIndex.FileName));
            request.SideFiles?.WriteInto(target.StagingPath);
        }
        context.Cancellation.ThrowIfCancellationRequested();
        target.Commit();
        return new ExportOutcome(layout, nonFinite) { Warnings = target.Warnings };
    }

    /// <summary>Counts tensors and bytes done and reports them.</summary>
    private sealed class ProgressTracker(ExportLayout layout, Action<ExportProgress>? report)
    {
        private readonly int _tensorsTotal = layout.Files.Sum(f => f.Sources.Count);
        private readonly long _bytesTotal = layout.TotalTensorBytes;
        private int _tensorsDone;
        private long _bytesDone;
        private string _tensor = "", _file = "";

        public void Starting(ITensorSource source, string file)
        {
            (_tensor, _file) = (source.Name, file);
            Report();
        }

        public void Wrote(long bytes)
        {
            _bytesDone += bytes;
            Report();
        }

        public void Finished() => _tensorsDone++;

        private void Report() => report?.Invoke(new ExportProgress(_tensorsDone, _tensorsTotal, _bytesDone, _bytesTotal, _tensor, _file));
    }
}
