using ChatVector.Core.Format;
using ChatVector.Core.IO;

namespace ChatVector.Core.Tensors;

/// <summary>
/// The stored inputs of one chunk of a computed tensor, each read from its file once for the chunk on this thread and
/// lent to every source that reads it (<see cref="ThreadChunkCopies"/>): for inputs not held in memory, whose every
/// read is a copy out of the page cache. Inputs already held are left to their held copies; inputs of another element
/// count (read at other offsets) to their files. Dispose on the thread that read them; scopes nest (a chunk's source
/// that reads its own inputs again for a pass of its own ends only its own copies).
/// </summary>
public readonly struct ChunkInputCopies : IDisposable
{
    private ChunkInputCopies(int mark, bool coversAll) => (_mark, CoversAll) = (mark, coversAll);
    /// <summary>The thread's copies before this scope's (plus one, so that the default value ends nothing).</summary>
    private readonly int _mark;

    /// <summary>The largest copy of one input's chunk: <see cref="ScratchArrays{T}"/> rounds lengths up to powers of two.</summary>
    private const long MaxCopyBytes = 1L << 30;

    /// <summary>Every input is in memory for the chunk (held, or copied here): reads of small blocks open no file.</summary>
    public bool CoversAll { get; }

    /// <summary>Reads elements [<paramref name="firstElement"/>, + <paramref name="count"/>) of each input of <paramref name="elementCount"/> elements not held now.</summary>
    public static ChunkInputCopies Read(IEnumerable<StoredTensorSource> inputs, long elementCount, long firstElement, int count)
    {
        int mark = ThreadChunkCopies.Count;
        bool coversAll = true;
        try
        {
            foreach (var input in inputs)
            {
                if (input.IsHeld) continue;
                if (CopyLength(input, elementCount, count) is not { } length)
                {
                    coversAll = false;
                    continue;
                }
                long offset = firstElement * (input.DType.Bits() / 8);
                var (file, info) = (input.Stored.File, input.Stored.Info);
                if (file.LendsToThisThread(info, offset, length)) continue; // an enclosing scope of this thread read them
                var bytes = ScratchArrays<byte>.Rent(length);
                try { file.CopyForThisThread(info, offset, length, bytes); }
                catch
                {
                    ScratchArrays<byte>.Return(bytes);
                    throw;
                }
            }
        }
        catch
        {
            ThreadChunkCopies.ClearFrom(mark, ScratchArrays<byte>.Return);
            throw;
        }
        return new ChunkInputCopies(mark + 1, coversAll);
    }

    /// <summary>
    /// The bytes of an input's chunk, or null to leave the input to its file: an input of another element count (read at
    /// other offsets), a sub-byte type, or a chunk of a GB or more (chunks of over 512 MB of output, F32 inputs; the
    /// pooled arrays stop at 2^30, and such a chunk gains nothing anyway).
    /// </summary>
    private static int? CopyLength(StoredTensorSource input, long elementCount, int count)
    {
        int bits = input.DType.Bits();
        long bytes = (long)count * bits / 8;
        return input.ElementCount == elementCount && bits % 8 == 0 && bytes < MaxCopyBytes ? (int)bytes : null;
    }

    /// <summary>Ends this scope's loans (not an enclosing scope's) and gives its arrays back.</summary>
    public void Dispose()
    {
        if (_mark > 0) ThreadChunkCopies.ClearFrom(_mark - 1, ScratchArrays<byte>.Return);
    }
}
