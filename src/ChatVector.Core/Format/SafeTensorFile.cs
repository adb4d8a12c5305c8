using System.Buffers.Binary;
using ChatVector.Core.IO;
using Microsoft.Win32.SafeHandles;

namespace ChatVector.Core.Format;

/// <summary>
/// An opened, validated safetensors file: header parsed, data read on demand (ranged reads,
/// never the whole file, never memory-mapped so reads do not count against resident memory).
/// </summary>
public sealed class SafeTensorFile
{
    /// <summary>The format's limit on the header; larger ones are refused before anything is allocated.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private readonly Dictionary<string, TensorInfo> _byName;
    private readonly DateTime _lastWriteUtc;

    private SafeTensorFile(string path, long fileLength, DateTime lastWriteUtc, long dataStart, SafeTensorHeaderParser.Header header)
    {
        Path = path;
        FileLength = fileLength;
        _lastWriteUtc = lastWriteUtc;
        DataStart = dataStart;
        Tensors = header.TensorsInDataOrder;
        Metadata = header.Metadata;
        _byName = Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Reads and validates the header against the file's length. Throws <see cref="SafeTensorException"/>.</summary>
    public static SafeTensorFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path)) throw new SafeTensorException(SafeTensorRule.FileNotFound, path, "no such file");
        using var opened = OpenForReading(path);
        long length = RandomAccess.GetLength(opened);
        var lastWrite = File.GetLastWriteTimeUtc(path);
        if (length < 8) throw new SafeTensorException(SafeTensorRule.FileTooShort, path, $"the file has {length} bytes; a safetensors file starts with an 8-byte header length");
        Span<byte> prefix = stackalloc byte[(int)Math.Min(length, FileSignature.Length)];
        RandomAccess.Read(opened, prefix, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderLength || (long)headerLength > length - 8)
        {
            if (FileSignature.Describe(prefix) is { } kind)
                throw new SafeTensorException(SafeTensorRule.NotSafeTensors, path, $"this is not a safetensors file ({kind})");
            if (headerLength > MaxHeaderLength)
                throw new SafeTensorException(SafeTensorRule.HeaderTooLarge, path, $"the header claims {headerLength} bytes; at most {MaxHeaderLength} are allowed");
            throw new SafeTensorException(SafeTensorRule.HeaderBeyondFile, path, $"the header claims {headerLength} bytes but the file has only {length - 8} after the length");
        }
        var headerBytes = new byte[headerLength];
        if (RandomAccess.Read(opened, headerBytes, 8) != headerBytes.Length)
            throw new SafeTensorException(SafeTensorRule.FileChanged, path, "the file shrank while its header was read");
        long dataStart = 8 + (long)headerLength;
        var header = SafeTensorHeaderParser.Parse(headerBytes, length - dataStart, path);
        return new SafeTensorFile(path, length, lastWrite, dataStart, header);
    }

    public string Path { get; }
    public long FileLength { get; }
    /// <summary>Offset of the data section: 8 + header length.</summary>
    public long DataStart { get; }
    /// <summary>Tensors in data (offset) order.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }
    /// <summary>The header's <c>__metadata__</c>, empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public TensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// Where the tensor's bytes lie in this file as it was opened (with its length and write time, its identity): what
    /// a held copy of them is keyed by, and what page-cache hints name.
    /// </summary>
    public FileRange RangeOf(TensorInfo tensor) => new(Path, FileLength, _lastWriteUtc, DataStart + tensor.Begin, tensor.ByteLength);

    /// <summary>The tensor's range and how to read it from this file: what <see cref="ResidentTensors.TryHold(IEnumerable{ValueTuple{FileRange, RangeReader}}, CancellationToken)"/> takes.</summary>
    public (FileRange Range, RangeReader Read) RangeToHold(TensorInfo tensor) => (RangeOf(tensor), destination => ReadTensorBytes(tensor, 0, destination));

    /// <summary>
    /// Reads <paramref name="length"/> bytes of <paramref name="tensor"/> from <paramref name="offsetInTensor"/> into
    /// <paramref name="bytes"/> and lends them to this thread's readers of the tensor until
    /// <see cref="ThreadChunkCopies.ClearFrom"/> (a chunk's inputs read once, see there).
    /// </summary>
    internal void CopyForThisThread(TensorInfo tensor, long offsetInTensor, int length, byte[] bytes)
    {
        ReadTensorBytes(tensor, offsetInTensor, bytes.AsSpan(0, length));
        ThreadChunkCopies.Add(RangeOf(tensor), offsetInTensor, length, bytes);
    }

    /// <summary>Whether a copy this thread read for its chunk already lends those bytes of <paramref name="tensor"/>.</summary>
    internal bool LendsToThisThread(TensorInfo tensor, long offsetInTensor, int length) =>
        ThreadChunkCopies.Covers(RangeOf(tensor), offsetInTensor, length);

    /// <summary>Whether the tensor is held in memory now (<see cref="ResidentTensors"/>; a hint: it may be let go right after).</summary>
    public bool IsHeld(TensorInfo tensor) => ResidentTensors.IsHeld(RangeOf(tensor));

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes of <paramref name="tensor"/> starting
    /// <paramref name="offsetInTensor"/> bytes into it. Opens the file shared for reading (never a
    /// write lock) and throws <see cref="SafeTensorRule.FileChanged"/> when the file's length or
    /// write time differ from when it was opened, or when it is shorter than expected. A tensor held in memory
    /// (<see cref="ResidentTensors"/>, read from this same file as it was opened) is copied from there instead.
    /// </summary>
    public void ReadTensorBytes(TensorInfo tensor, long offsetInTensor, Span<byte> destination)
    {
        int length = destination.Length;
        if (offsetInTensor < 0 || offsetInTensor > tensor.ByteLength - destination.Length) // no overflow near long.MaxValue
            throw new ArgumentOutOfRangeException(nameof(offsetInTensor), $"bytes [{offsetInTensor}, {offsetInTensor + destination.Length}) outside tensor '{tensor.Name}' of {tensor.ByteLength} bytes");
        if (destination.IsEmpty || ResidentTensors.TryRead(RangeOf(tensor), offsetInTensor, destination)) return;
        SafeFileHandle opened;
        try { opened = OpenForReading(Path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) // the file, or its whole folder, is gone
        {
            throw new SafeTensorException(SafeTensorRule.FileChanged, Path, "the file was removed after it was opened", tensor.Name, e);
        }
        using (opened)
        {
            if (RandomAccess.GetLength(opened) != FileLength || File.GetLastWriteTimeUtc(Path) != _lastWriteUtc)
                throw new SafeTensorException(SafeTensorRule.FileChanged, Path, "the file was modified after it was opened; its data can no longer be trusted", tensor.Name);
            long position = DataStart + tensor.Begin + offsetInTensor;
            while (!destination.IsEmpty)
            {
                int read = RandomAccess.Read(opened, destination, position);
                if (read <= 0) throw new SafeTensorException(SafeTensorRule.FileChanged, Path, "the file ended before the tensor's data", tensor.Name);
                destination = destination[read..];
                position += read;
            }
        }
        Interlocked.Add(ref _bytesReadFromFiles, length);
    }

    private static long _bytesReadFromFiles;

    /// <summary>Tensor bytes read from files (not from held copies) since the process started (tests and the benchmark watch it).</summary>
    public static long BytesReadFromFiles => Interlocked.Read(ref _bytesReadFromFiles);

    /// <summary>
    /// Lends <paramref name="length"/> bytes of <paramref name="tensor"/> from <paramref name="offsetInTensor"/> when the
    /// tensor is held in memory (<see cref="ResidentTensors"/>); false when it is not, and the caller reads them with
    /// <see cref="ReadTensorBytes"/>. Dispose the loan when done with its bytes.
    /// </summary>
    public bool TryBorrowTensorBytes(TensorInfo tensor, long offsetInTensor, int length, out ResidentTensors.Loan bytes)
    {
        if (offsetInTensor < 0 || length < 0 || offsetInTensor > tensor.ByteLength - length)
            throw new ArgumentOutOfRangeException(nameof(offsetInTensor), $"bytes [{offsetInTensor}, {offsetInTensor + length}) outside tensor '{tensor.Name}' of {tensor.ByteLength} bytes");
        return ResidentTensors.TryBorrow(RangeOf(tensor), offsetInTensor, length, out bytes);
    }

    private static SafeFileHandle OpenForReading(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
}
