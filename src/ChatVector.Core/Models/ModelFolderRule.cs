namespace ChatVector.Core.Models;

/// <summary>
/// Every rule a model folder, its index or its side files can break, beyond those of each file in it
/// (<see cref="Format.SafeTensorRule"/>). Each error names one; the names are the error ids users see.
/// </summary>
public enum ModelFolderRule
{
    NoWeights,
    PickleWeightsRefused,
    IndexInvalid,
    IndexMissingShard,
    IndexTensorMissing,
    TensorInTwoShards,
    PathOutsideFolder,
    /// <summary>A file name Windows cannot hold as written (a device name, a trailing dot or space): see <see cref="PortableFileName"/>.</summary>
    NonPortableName,
    /// <summary>A JSON side file ChatVector reads (config.json, generation_config.json, tokenizer_config.json) that is not valid JSON or not an object: see <see cref="ModelSideFiles"/>.</summary>
    SideFileInvalid,
}
