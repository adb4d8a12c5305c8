using ChatVector.NativePatch;
using CsCheck;
using Xunit;

namespace ChatVector.NativePatch.Tests;

/// <summary>Runs against a temp copy of TorchSharp's real libLibTorchSharp.so; the cache copy is never written.</summary>
public sealed class ElfVersionNeedPatcherTests : IDisposable
{
    private const string Glibcxx = "GLIBCXX_3.4.32";
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-elf-").FullName;
    private readonly string _original = NativePaths.PackageLibTorchSharp;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Copy(string name = "lib.so")
    {
        Assert.True(File.Exists(_original), $"TorchSharp package native not found at {_original}");
        var path = Path.Combine(_dir, name);
        File.Copy(_original, path);
        return path;
    }

    [Fact]
    public void Package_copy_requires_GLIBCXX_3_4_32_strongly()
    {
        var req = Assert.Single(ElfVersionNeedPatcher.ListRequirements(_original), r => r.Version == Glibcxx);
        Assert.Equal("libstdc++.so.6", req.Library);
        Assert.False(req.IsWeak);
    }

    [Fact]
    public void MarkWeak_marks_only_the_named_version_and_reports_it()
    {
        var lib = Copy();
        var before = ElfVersionNeedPatcher.ListRequirements(lib);

        var result = ElfVersionNeedPatcher.MarkWeak(lib, [Glibcxx]);

        var changed = Assert.Single(result.Changed);
        Assert.Equal(Glibcxx, changed.Version);
        Assert.True(changed.IsWeak);
        Assert.Empty(result.AlreadyWeak);
        Assert.Empty(result.NotFound);
        var after = ElfVersionNeedPatcher.ListRequirements(lib);
        Assert.Equal(before.Count, after.Count);
        foreach (var (b, a) in before.Zip(after))
            Assert.Equal(b.Version == Glibcxx ? (ushort)(b.Flags | ElfVersionNeedPatcher.VerFlagWeak) : b.Flags, a.Flags);
    }

    [Fact]
    public void Only_the_flag_bytes_change()
    {
        var lib = Copy();
        var flagsAt = ElfVersionNeedPatcher.ListRequirements(lib).Single(r => r.Version == Glibcxx).FlagsOffset;
        ElfVersionNeedPatcher.MarkWeak(lib, [Glibcxx]);

        var original = File.ReadAllBytes(_original);
        var patched = File.ReadAllBytes(lib);
        Assert.Equal(original.Length, patched.Length);
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        Assert.NotEmpty(differing);
        Assert.All(differing, i => Assert.InRange(i, flagsAt, flagsAt + 1));
    }

    [Fact]
    public void Patching_twice_is_idempotent()
    {
        var lib = Copy();
        ElfVersionNeedPatcher.MarkWeak(lib, [Glibcxx]);
        var once = File.ReadAllBytes(lib);

        var second = ElfVersionNeedPatcher.MarkWeak(lib, [Glibcxx]);

        Assert.Empty(second.Changed);
        Assert.Equal(Glibcxx, Assert.Single(second.AlreadyWeak).Version);
        Assert.Equal(once, File.ReadAllBytes(lib));
    }

    [Fact]
    public void Unknown_version_is_reported_not_found_and_nothing_is_written()
    {
        var lib = Copy();
        var result = ElfVersionNeedPatcher.MarkWeak(lib, ["GLIBCXX_9.9.9"]);
        Assert.Equal(["GLIBCXX_9.9.9"], result.NotFound);
        Assert.Equal(File.ReadAllBytes(_original), File.ReadAllBytes(lib));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(100_000)]
    public void Truncated_file_is_InvalidDataException_naming_it(int length)
    {
        var path = Path.Combine(_dir, "truncated.so");
        File.WriteAllBytes(path, File.ReadAllBytes(_original).AsSpan(0, length).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.ListRequirements(path));
        Assert.Contains(path, e.Message);
        Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.MarkWeak(path, [Glibcxx]));
    }

    [Fact]
    public void Not_an_ELF_file_is_InvalidDataException()
    {
        var path = Path.Combine(_dir, "text.so");
        File.WriteAllText(path, new string('x', 200));
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.ListRequirements(path));
        Assert.Contains("not an ELF file", e.Message);
    }

    [Fact]
    public void ELF32_is_InvalidDataException()
    {
        var bytes = File.ReadAllBytes(_original);
        bytes[4] = 1; // EI_CLASS = ELFCLASS32
        var path = Path.Combine(_dir, "elf32.so");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.ListRequirements(path));
        Assert.Contains("64-bit", e.Message);
    }

    [Fact]
    public void Corrupted_headers_never_crash()
    {
        // Overwrite bytes in the parts the parser reads (ELF header, section headers, .gnu.version_r,
        // .dynstr): the answer is a list or an InvalidDataException, nothing else.
        var original = File.ReadAllBytes(_original);
        var shoff = (int)BitConverter.ToUInt64(original, 0x28);
        var verneed = ElfVersionNeedPatcher.ListRequirements(_original).Min(r => r.FlagsOffset) - 64;
        var regions = new[] { (0, 64), (shoff, original.Length - shoff), ((int)verneed, 0x300), (0x3c000, 0x2000) };
        var gen = from region in Gen.Int[0, regions.Length - 1]
                  from offset in Gen.Int[0, regions[region].Item2 - 1]
                  from value in Gen.Byte
                  from width in Gen.Int[1, 8]
                  select (At: regions[region].Item1 + offset, value, width);
        gen.Sample(m =>
        {
            var bytes = (byte[])original.Clone();
            for (var i = 0; i < m.width && m.At + i < bytes.Length; i++) bytes[m.At + i] = m.value;
            try { ElfVersionNeedPatcher.ListRequirements(new MemoryStream(bytes, writable: false), "mutant"); }
            catch (InvalidDataException) { }
        }, iter: 300);
    }
}
