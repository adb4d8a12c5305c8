using System.Runtime.InteropServices;

namespace ChatVector.Core.IO;

/// <summary>
/// Writes a new file sequentially without going through the page cache, where Linux allows it (O_DIRECT): bytes
/// are gathered in an aligned block and written from there in whole 4 MB blocks, each behind the caller's back while
/// the next block fills; the last block is padded, then the file is cut to its length. Why: buffered, the kernel copies every output byte into fresh cache pages,
/// kernel CPU time on every GB written (a direct write costs next to none), and those pages evict the input models
/// the merge still reads.
/// Where the file system refuses O_DIRECT (tmpfs, some network file systems), and on Windows and macOS, the
/// bytes go through the <see cref="FileStream"/> as before.
/// </summary>
internal sealed class UncachedWriteStream : Stream
{
    /// <summary>Memory address, file offset and length of every direct write are multiples of this (the largest logical block size in use).</summary>
    private const int Alignment = 4096;
    private const int BlockBytes = 4 << 20;
    private const int EINVAL = 22;

    private readonly FileStream _file;
    /// <summary>Two blocks: one is filled while the other is written (write-behind).</summary>
    private readonly byte[][] _pinned;
    private int _current; // the block being filled
    private int _filled;
    private long _written; // bytes handed to writes (done or pending)
    private bool _completed;
    /// <summary>
    /// The write of the other block, still going on or done. A direct write waits for the device, and the caller (the
    /// export's writer) would wait with it while the workers, their window of chunks full, stood idle. Writing behind,
    /// the next block fills meanwhile; a failure surfaces at the next write or at Flush.
    /// </summary>
    private Task _pending = Task.CompletedTask;

    private UncachedWriteStream(FileStream file)
    {
        _file = file;
        _pinned = [TakeBlock(), TakeBlock()];
    }

    private static byte[] TakeBlock() =>
        SpareBlocks.TryTake(out var spare) ? spare : GC.AllocateUninitializedArray<byte>(BlockBytes + Alignment, pinned: true);

    /// <summary>The aligned block inside a pinned array: from its first address that is a multiple of the alignment.</summary>
    private static Memory<byte> Aligned(byte[] pinned)
    {
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0);
        return pinned.AsMemory((int)((Alignment - address % Alignment) % Alignment), BlockBytes);
    }

    /// <summary>
    /// Blocks on the pinned object heap (their address is fixed; each block starts at the first aligned address in its
    /// array), reused from file to file: a dead pinned array waits for a full GC, and a merge writing a shard every
    /// 500 MB allocates little else, so fresh ones per file piled up in resident memory.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<byte[]> SpareBlocks = new();

    private Span<byte> Block => Aligned(_pinned[_current]).Span;

    /// <summary>
    /// A stream writing <paramref name="file"/> (new and empty) uncached, or <paramref name="file"/> itself where
    /// that cannot be done. <see cref="Stream.Flush()"/> ends the file: nothing may be written after it.
    /// </summary>
    public static Stream Over(FileStream file)
    {
        if (file.Length != 0 || !DirectIo.TrySet(file, on: true)) return file;
        return new UncachedWriteStream(file);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_completed;
    public override long Length => Position;
    public override long Position { get => _written + _filled; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> bytes)
    {
        if (_completed) throw new InvalidOperationException($"{_file.Name}: written after it was completed");
        while (!bytes.IsEmpty)
        {
            int n = Math.Min(bytes.Length, BlockBytes - _filled);
            bytes[..n].CopyTo(Block[_filled..]);
            _filled += n;
            bytes = bytes[n..];
            if (_filled == BlockBytes) WriteBlock(BlockBytes);
        }
    }

    /// <summary>Writes what is gathered (the last block padded to the alignment), waits for every write, and cuts the file to its length.</summary>
    public override void Flush()
    {
        if (_completed) return;
        long length = Position;
        if (_filled > 0)
        {
            int padded = (_filled + Alignment - 1) / Alignment * Alignment;
            Block[_filled..padded].Clear();
            WriteBlock(padded);
        }
        _pending.GetAwaiter().GetResult(); // rethrows the write's own exception
        _completed = true;
        _file.SetLength(length);
        DirectIo.TrySet(_file, on: false); // the handle is an ordinary one again: the writer may rewrite the header through it
    }

    /// <summary>Starts writing the current block behind (once the previous write is done) and turns to the other block.</summary>
    private void WriteBlock(int length)
    {
        _pending.GetAwaiter().GetResult(); // the other block is free again, or its write's failure is thrown here
        var block = Aligned(_pinned[_current])[..length];
        long offset = _written;
        _pending = Task.Run(() => WriteAt(block, offset));
        _written += length;
        _filled = 0;
        _current = 1 - _current;
    }

    private void WriteAt(ReadOnlyMemory<byte> block, long offset)
    {
        try
        {
            RandomAccess.Write(_file.SafeFileHandle, block.Span, offset);
        }
        catch (IOException e) when (e.HResult == EINVAL && DirectIo.TrySet(_file, on: false))
        {
            // The file system took the flag but refuses the writes: written through the cache instead.
            RandomAccess.Write(_file.SafeFileHandle, block.Span, offset);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_returned)
        {
            _returned = true;
            // A write still going on owns its block: wait for it (its failure, if any, was or is reported by Flush).
            try { _pending.Wait(); } catch (AggregateException) { }
            foreach (var block in _pinned) SpareBlocks.Add(block);
        }
        base.Dispose(disposing);
    }

    private bool _returned;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Sets or clears O_DIRECT on an open file (Linux, x64 and arm64, whose flag values differ).</summary>
    private static class DirectIo
    {
        private const int F_GETFL = 3, F_SETFL = 4;

        [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        private static extern int Fcntl(int fd, int command, int argument);

        private static int Flag => RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x4000, // 040000 octal
            Architecture.Arm64 => 0x10000, // 0200000 octal
            _ => 0,
        };

        public static bool TrySet(FileStream file, bool on)
        {
            if (!OperatingSystem.IsLinux() || Flag == 0 || Settings.EnvironmentSettings.CachedWrites) return false;
            try
            {
                int fd = (int)file.SafeFileHandle.DangerousGetHandle();
                int flags = Fcntl(fd, F_GETFL, 0);
                if (flags < 0) return false;
                return Fcntl(fd, F_SETFL, on ? flags | Flag : flags & ~Flag) == 0; // EINVAL: the file system has no direct I/O
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }
    }
}
