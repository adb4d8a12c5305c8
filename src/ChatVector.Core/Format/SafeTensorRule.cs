namespace ChatVector.Core.Format;

/// <summary>
/// Every rule a file, an index or a model folder can break. Each error names one, so a
/// user (and a test) can tell exactly which check refused the input.
/// </summary>
public enum SafeTensorRule
{
    // One file (the format specification's reject cases).
    FileNotFound,
    FileTooShort,
    /// <summary>The header length is impossible and the first bytes show another kind of file (pickle, zip, text).</summary>
    NotSafeTensors,
    HeaderTooLarge,
    HeaderBeyondFile,
    HeaderNotUtf8,
    HeaderNotJson,
    HeaderNotObject,
    MetadataNotStringMap,
    InvalidTensorEntry,
    UnknownDType,
    NegativeDimension,
    SizeOverflow,
    ByteLengthMismatch,
    OffsetsNotContiguous,
    DataLengthMismatch,
    DuplicateTensorName,
    FileChanged,

    // Model folders and indexes.
    NoWeights,
    PickleWeightsRefused,
    IndexInvalid,
    IndexMissingShard,
    IndexTensorMissing,
    TensorInTwoShards,
    PathOutsideFolder,
}
