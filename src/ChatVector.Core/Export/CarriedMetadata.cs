using ChatVector.Core.Merge;
using ChatVector.Core.Sparsify;

namespace ChatVector.Core.Export;

/// <summary>
/// Which keys of an input file's <c>__metadata__</c> an output made from it keeps: provenance and recipe
/// only, written down here so that carrying is a decision and not an accident. Everything else is
/// dropped; above all anything that describes the input's own bytes (<c>chatvector.xxh128</c> checksums,
/// <c>format</c>), which would be false of the new files. Derived entries (the vector ratio) are written
/// from the pipeline, and the export writes its own checksums.
/// </summary>
public static class CarriedMetadata
{
    /// <summary>The keys carried from input files to outputs.</summary>
    public static readonly IReadOnlySet<string> Keys = new HashSet<string>(
        [
            .. VectorProvenance.MetadataKeys, // a saved vector: its models, chat template, eos token, skipped tensors,
                                              // how Limit-ChatVector sparsified it
            MergeRecipe.MetadataKey,          // a merged model: how it was made
        ],
        StringComparer.Ordinal);

    /// <summary>The entries of <paramref name="fileMetadata"/> an output keeps.</summary>
    public static IReadOnlyDictionary<string, string> From(IReadOnlyDictionary<string, string> fileMetadata) =>
        fileMetadata.Where(kv => Keys.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}
