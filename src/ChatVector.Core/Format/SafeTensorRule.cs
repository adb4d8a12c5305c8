namespace ChatVector.Core.Format;

/// <summary>
/// Every rule one safetensors file can break (the format specification's reject cases, plus a missing
/// path and a file changed under us). Each error names one, so a user (and a test) can tell exactly which
/// check refused the input. Folder and index rules are <c>Models.ModelFolderRule</c>.
/// </summary>
public enum SafeTensorRule
{
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
}
