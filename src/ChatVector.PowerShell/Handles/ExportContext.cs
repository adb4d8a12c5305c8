using ChatVector.Core.Export;
using ChatVector.Core.Merge;

namespace ChatVector.PowerShell.Handles;

/// <summary>
/// What a handle's producer knows that the writer needs: metadata for the files (a vector's provenance,
/// a merge's recipe) and the side files of a model folder. Shared by all handles one command emits.
/// </summary>
public sealed class ExportContext
{
    public static readonly ExportContext None = new(new Dictionary<string, string>(), null, null);

    public ExportContext(IReadOnlyDictionary<string, string> metadata, SideFiles? sideFiles, VectorProvenance? provenance)
    {
        Metadata = metadata;
        SideFiles = sideFiles;
        Provenance = provenance;
    }

    /// <summary>Entries for every written file's __metadata__.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Side files for a model folder target (config, tokenizer, model card), when known.</summary>
    public SideFiles? SideFiles { get; }
    /// <summary>For vectors: the models they came from.</summary>
    public VectorProvenance? Provenance { get; }
}
