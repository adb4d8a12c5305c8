using ChatVector.Core.Format;
using ChatVector.Core.IO;

namespace ChatVector.Core.Tensors;

/// <summary>
/// The stored inputs of one chunk of a computed tensor, each read from its file once for the chunk on this thread and
/// lent to every source that reads it (<see cref="ThreadChunkCopies"/>): for inputs not held in memory, whose every
/// read is a copy out of the page cache. Inputs already held are left to their held copies; inputs of another element
/// count (read at other offsets) to their files. Dispose on the thread that read them.
/// </summary>
public readonly struct ChunkInputCopies : IDisposable
{
    private ChunkInputCopies(bool any, bool coversAll) => (_any, CoversAll) = (any, coversAll);
    private readonly bool _any;

    /// <summary>Every input is in memory for the chunk (held, or copied here): reads of small blocks open no file.</summary>
    public bool CoversAll { get; }

    /// <summary>Reads elements [<paramref name="firstElement"/>, + <paramref name="count"/>) of each input of <paramref name="elementCount"/> elements not held now.</summary>
    public static ChunkInputCopies Read(IEnumerable<StoredTensorSource> inputs, long elementCount, long firstElement, int count)
    {
        bool any = false, coversAll = true;
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
                int elementBytes = input.DType.Bits() / 8;
                int length = checked(count * elementBytes);
                var bytes = ScratchArrays<byte>.Rent(length);
                try { input.Stored.File.CopyForThisThread(input.Stored.Info, firstElement * elementBytes, length, bytes); }
                catch
                {
                    ScratchArrays<byte>.Return(bytes);
                    throw;
                }
                any = true;
            }
        }
        catch
        {
            ThreadChunkCopies.Clear(ScratchArrays<byte>.Return);
            throw;
        }
        return new ChunkInputCopies(any, coversAll);
    }

    public void Dispose()
    {
        if (_any) ThreadChunkCopies.Clear(ScratchArrays<byte>.Return);
    }
}
