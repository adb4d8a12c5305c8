using System.Buffers.Binary;
using System.Text;

namespace ChatVector.NativePatch;

/// <summary>One version requirement (a Vernaux entry of <c>.gnu.version_r</c>): the library it
/// is needed from, the version name, its flags, and where the flags live in the file.</summary>
public sealed record ElfVersionRequirement(string Library, string Version, ushort Flags, long FlagsOffset)
{
    /// <summary>A weak requirement does not stop the loader when the library lacks the version.</summary>
    public bool IsWeak => (Flags & ElfVersionNeedPatcher.VerFlagWeak) != 0;
}

/// <summary>What <see cref="ElfVersionNeedPatcher.MarkWeak"/> did, per requested version name.</summary>
public sealed record ElfPatchResult(
    string File,
    IReadOnlyList<ElfVersionRequirement> Changed,
    IReadOnlyList<ElfVersionRequirement> AlreadyWeak,
    IReadOnlyList<string> NotFound);

/// <summary>
/// Marks version requirements (<c>.gnu.version_r</c> Vernaux entries) of an ELF64 little-endian
/// shared object weak, in place.
/// </summary>
/// <remarks>
/// Why: TorchSharp's prebuilt libLibTorchSharp.so asks for GLIBCXX_3.4.32 only for
/// <c>std::ios_base_library_init()</c>, which it references without a relocation. A weak
/// requirement lets glibc load it against an older libstdc++ (Debian 12 has 3.4.30).
/// Only the two flag bytes of matching entries are ever written; everything is bounds-checked so
/// a malformed file gives an <see cref="InvalidDataException"/> naming it, never a crash.
/// </remarks>
public static class ElfVersionNeedPatcher
{
    public const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const int EntrySize = 16; // sizeof(Elf64_Verneed) == sizeof(Elf64_Vernaux)

    /// <summary>Lists every version requirement of the file, in section order.</summary>
    public static IReadOnlyList<ElfVersionRequirement> ListRequirements(string path)
    {
        using var stream = OpenRead(path);
        return new Reader(stream, path).ReadRequirements();
    }

    /// <summary>As <see cref="ListRequirements(string)"/>, from a seekable stream; <paramref name="name"/> names it in errors.</summary>
    public static IReadOnlyList<ElfVersionRequirement> ListRequirements(Stream stream, string name) =>
        new Reader(stream, name).ReadRequirements();

    /// <summary>Sets VER_FLG_WEAK on each Vernaux entry whose name is in <paramref name="versions"/>.
    /// Idempotent: entries already weak are reported, not rewritten.</summary>
    public static ElfPatchResult MarkWeak(string path, IEnumerable<string> versions)
    {
        var wanted = new HashSet<string>(versions, StringComparer.Ordinal);
        if (wanted.Count == 0) throw new ArgumentException("No version names given.", nameof(versions));

        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var requirements = new Reader(stream, path).ReadRequirements();
        var changed = new List<ElfVersionRequirement>();
        var already = new List<ElfVersionRequirement>();
        Span<byte> flagBytes = stackalloc byte[2];
        foreach (var req in requirements.Where(r => wanted.Contains(r.Version)))
        {
            if (req.IsWeak) { already.Add(req); continue; }
            var newFlags = (ushort)(req.Flags | VerFlagWeak);
            BinaryPrimitives.WriteUInt16LittleEndian(flagBytes, newFlags);
            stream.Position = req.FlagsOffset;
            stream.Write(flagBytes);
            changed.Add(req with { Flags = newFlags });
        }
        stream.Flush(flushToDisk: true);
        var found = requirements.Select(r => r.Version).ToHashSet(StringComparer.Ordinal);
        var notFound = wanted.Where(v => !found.Contains(v)).OrderBy(v => v, StringComparer.Ordinal).ToList();
        return new ElfPatchResult(path, changed, already, notFound);
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>Bounds-checked reads of the parts of the file we need; nothing else is loaded.</summary>
    private sealed class Reader(Stream stream, string path)
    {
        private readonly long _length = stream.Length;

        public List<ElfVersionRequirement> ReadRequirements()
        {
            var header = Read(0, 64, "ELF header");
            if (header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
                throw Invalid("not an ELF file (bad magic)");
            if (header[4] != 2) throw Invalid("not a 64-bit ELF file (EI_CLASS is not ELFCLASS64)");
            if (header[5] != 1) throw Invalid("not a little-endian ELF file (EI_DATA is not ELFDATA2LSB)");

            var shoff = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x28));
            var shentsize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3A));
            long shnum = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3C));
            if (shoff == 0) throw Invalid("it has no section header table");
            if (shentsize < 64) throw Invalid($"section header entry size {shentsize} is smaller than 64");
            if (shnum == 0) // extended numbering: the real count is section 0's sh_size
                shnum = checked((long)ReadU64(Read(ToOffset(shoff), 64, "section header 0"), 32));

            var sections = ReadSectionHeaders(ToOffset(shoff), shentsize, shnum);
            var result = new List<ElfVersionRequirement>();
            foreach (var verneed in sections.Where(s => s.Type == ShtGnuVerneed))
            {
                if (verneed.Link >= sections.Count) throw Invalid($"verneed section links to missing section {verneed.Link}");
                var strtab = sections[(int)verneed.Link];
                var data = Read(verneed.Offset, verneed.Size, "version-needs section");
                var strings = Read(strtab.Offset, strtab.Size, "version-needs string table");
                ParseVerneed(verneed, data, strings, result);
            }
            return result;
        }

        private void ParseVerneed(Section section, byte[] data, byte[] strings, List<ElfVersionRequirement> result)
        {
            // sh_info is the number of Verneed entries; never walk more entries than fit (loop guard).
            long maxEntries = data.Length / EntrySize;
            long pos = 0;
            for (long i = 0; i < section.Info; i++)
            {
                if (pos + EntrySize > data.Length) throw Invalid($"verneed entry {i} lies outside its section");
                var vnCnt = ReadU16(data, pos + 2);
                var library = ReadString(strings, ReadU32(data, pos + 4));
                long aux = pos + ReadU32(data, pos + 8);
                for (int j = 0; j < vnCnt; j++)
                {
                    if (aux < 0 || aux + EntrySize > data.Length || result.Count > maxEntries)
                        throw Invalid($"vernaux entry {j} of {library} lies outside its section");
                    var flags = ReadU16(data, aux + 4);
                    var name = ReadString(strings, ReadU32(data, aux + 8));
                    result.Add(new ElfVersionRequirement(library, name, flags, section.Offset + aux + 4));
                    var next = ReadU32(data, aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                var vnNext = ReadU32(data, pos + 12);
                if (vnNext == 0) break;
                pos += vnNext;
            }
        }

        private List<Section> ReadSectionHeaders(long offset, int entSize, long count)
        {
            // count <= file length (ToOffset) and entSize <= 65535, so the product cannot overflow.
            var table = Read(offset, count * entSize, "section header table");
            var list = new List<Section>((int)count);
            for (long i = 0; i < count; i++)
            {
                long b = i * entSize;
                list.Add(new Section(
                    Type: ReadU32(table, b + 4),
                    Offset: ToOffset(ReadU64(table, b + 24)),
                    Size: ToOffset(ReadU64(table, b + 32)),
                    Link: ReadU32(table, b + 40),
                    Info: ReadU32(table, b + 44)));
            }
            return list;
        }

        private byte[] Read(long offset, long count, string what)
        {
            if (offset < 0 || count < 0 || offset > _length || count > _length - offset)
                throw Invalid($"{what} (offset {offset}, {count} bytes) runs past end of file ({_length} bytes); truncated?");
            if (count > Array.MaxLength) throw Invalid($"{what} is implausibly large ({count} bytes)");
            var buffer = new byte[count];
            stream.Position = offset;
            stream.ReadExactly(buffer);
            return buffer;
        }

        private string ReadString(byte[] strings, uint offset)
        {
            if (offset >= strings.Length) throw Invalid($"string offset {offset} outside the string table");
            int end = Array.IndexOf(strings, (byte)0, (int)offset);
            if (end < 0) throw Invalid($"unterminated string at offset {offset}");
            return Encoding.ASCII.GetString(strings, (int)offset, end - (int)offset);
        }

        private long ToOffset(ulong value) =>
            value > (ulong)_length ? throw Invalid($"offset/size {value} exceeds file length {_length}") : (long)value;

        private static ushort ReadU16(byte[] b, long at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at));
        private static uint ReadU32(byte[] b, long at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at));
        private static ulong ReadU64(byte[] b, long at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)at));

        private InvalidDataException Invalid(string why) => new($"'{path}' is not a usable ELF64 shared object: {why}.");
    }

    private readonly record struct Section(uint Type, long Offset, long Size, uint Link, uint Info);
}
