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
                if (input.ElementCount != elementCount)
                {
                    coversAll = false;
                    continue;
                }
                long bytesOfChunk = (long)count * input.DType.Bits() / 8;
                // A chunk of a GB or more of one input (chunks of over 512 MB of output, F32 inputs) is left to its
                // file, as is a sub-byte type: the pooled arrays stop at 2^30, and such a chunk gains nothing anyway.
                if (bytesOfChunk >= MaxCopyBytes || input.DType.Bits() % 8 != 0)
                {
                    coversAll = false;
                    continue;
                }
                int elementBytes = input.DType.Bits() / 8;
                int length = (int)bytesOfChunk;
                var bytes = ScratchArrays<byte>.Rent(length);
                bool copied;
                try { copied = input.Stored.File.CopyForThisThread(input.Stored.Info, firstElement * elementBytes, length, bytes); }
                catch
                {
                    ScratchArrays<byte>.Return(bytes);
                    throw;
                }
                if (!copied) ScratchArrays<byte>.Return(bytes); // an enclosing scope of this thread lends them already
            }
        }
        catch
        {
            ThreadChunkCopies.ClearFrom(mark, ScratchArrays<byte>.Return);
            throw;
        }
        return new ChunkInputCopies(mark + 1, coversAll);
    }

    /// <summary>Ends this scope's loans (not an enclosing scope's) and gives its arrays back.</summary>
    public void Dispose()
    {
        if (_mark > 0) ThreadChunkCopies.ClearFrom(_mark - 1, ScratchArrays<byte>.Return);
    }
}
