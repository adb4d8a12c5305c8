namespace ChatVector.Core.Models;

/// <summary>
/// Every rule a model folder or its index can break, beyond those of each file in it
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
}
