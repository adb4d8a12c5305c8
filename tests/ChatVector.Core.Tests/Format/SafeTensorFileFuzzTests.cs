using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ChatVector.Core.Format;
using CsCheck;
using Xunit;

namespace ChatVector.Core.Tests.Format;

/// <summary>
/// Mutation fuzzing of the safetensors reader: start from valid files, break them in random ways (length
/// prefix, header bytes, dtypes, numbers, duplicates, invalid UTF-8, JSON fragments, truncation, trailing
/// bytes), and require that the reader either accepts (and then behaves) or refuses with a
/// <see cref="SafeTensorException"/>: never another exception, never slowly, never with a huge allocation.
///
/// Cases per property: <see cref="FuzzBudget"/> (CHATVECTOR_FUZZ_ITERATIONS). For a soak run:
///   CHATVECTOR_FUZZ_ITERATIONS=1000000 dotnet test tests/ChatVector.Core.Tests --filter "FullyQualifiedName~Fuzz"
/// A failure prints the offending file as base64: paste it into a regression case.
/// </summary>
public sealed class SafeTensorFileFuzzTests : TempDirTest
{
    private const long MaxAllocationPerCase = 300L * 1024 * 1024;

    private static long Iterations => FuzzBudget.Iterations;

    private static readonly string[] ValidDTypes =
        ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "I64", "U64", "F64", "C64", "F4", "F6_E2M3"];

    private static readonly string[] ReplacementDTypes =
        [.. ValidDTypes, "F33", "f32", "", "BF16 ", "\\u0046\\u0033\\u0032", "F8_E8M0", "F8_E4M3FNUZ", "F6_E3M2", "1", "null"];

    private static readonly string[] ReplacementNumbers =
        ["-1", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "18446744073709551616", "4294967296",
         "99999999999999999999999999999999999999", "1e999", "-0", "0", "1.5", "1e3", "00", "0x10", "NaN", "Infinity", "-", "", "[]", "{}", "null", "\"4\""];

    /// <summary>A random valid tensor list: distinct names, any dtype, shapes of rank 0..4 (sub-byte types get even element counts).</summary>
    private static readonly Gen<RawTensor[]> TensorsGen =
        Gen.Select(Gen.OneOf(ValidDTypes), Gen.Int[0, 6].Array[0, 4], Gen.Char["abcxyz019_."].Array[0, 6].Select(c => new string(c)))
            .Array[0, 6]
            .Select(items => items.Select((x, i) =>
            {
                var (dtype, dims, suffix) = x;
                var shape = dims.Select(d => (long)d).ToArray();
                if (RawTensor.BitsOf(dtype) < 8 && shape.Aggregate(1L, (a, b) => a * b) % 2 != 0) shape = [.. shape, 2];
                if (RawTensor.BitsOf(dtype) == 6 && shape.Aggregate(1L, (a, b) => a * b) % 4 != 0) shape = [.. shape, 4];
                return new RawTensor($"t{i}.{suffix}", dtype, shape);
            }).ToArray());

    private enum Mutation
    {
        FlipHeaderBit, OverwriteHeaderByte, RandomLengthPrefix, HugeLengthPrefix, LengthPrefixNearFileLength,
        Truncate, AppendBytes, ReplaceDType, ReplaceNumber, DuplicateEntry, InsertInvalidUtf8, InsertJsonFragment,
        DeleteHeaderRange, ToggleMetadata,
    }

    private static readonly Gen<(RawTensor[] Tensors, bool Metadata, Mutation[] Mutations, int Seed)> CaseGen =
        Gen.Select(TensorsGen, Gen.Bool, Gen.Enum<Mutation>().Array[1, 4], Gen.Int);

    /// <summary>Builds the valid file, then applies the mutations (a seeded Random picks positions and values).</summary>
    private static byte[] Mutate(RawTensor[] tensors, bool metadata, Mutation[] mutations, int seed)
    {
        var random = new Random(seed);
        var bytes = RawSafeTensorFile.Valid(tensors, metadata ? new Dictionary<string, string> { ["format"] = "pt", ["k"] = "v" } : null);
        foreach (var m in mutations) bytes = Apply(m, bytes, random);
        return bytes;
    }

    private static byte[] Apply(Mutation m, byte[] bytes, Random random)
    {
        var (header, data) = Split(bytes);
        switch (m)
        {
            case Mutation.FlipHeaderBit when header.Length > 0:
                header[random.Next(header.Length)] ^= (byte)(1 << random.Next(8));
                return Join(header, data);
            case Mutation.OverwriteHeaderByte when header.Length > 0:
                header[random.Next(header.Length)] = (byte)random.Next(256);
                return Join(header, data);
            case Mutation.RandomLengthPrefix when bytes.Length >= 8:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)random.NextInt64());
                return bytes;
            case Mutation.HugeLengthPrefix when bytes.Length >= 8:
                ulong[] huge = [ulong.MaxValue, 1UL << 63, 100_000_000, 100_000_001, uint.MaxValue, (ulong)long.MaxValue];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, huge[random.Next(huge.Length)]);
                return bytes;
            case Mutation.LengthPrefixNearFileLength when bytes.Length >= 8:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)Math.Max(0, bytes.Length - 8 + random.Next(-3, 4)));
                return bytes;
            case Mutation.Truncate:
                return bytes[..random.Next(bytes.Length + 1)];
            case Mutation.AppendBytes:
                var extra = new byte[random.Next(1, 16)];
                random.NextBytes(extra);
                return [.. bytes, .. extra];
            case Mutation.ReplaceDType:
                return Join(ReplaceMatch(header, "\"dtype\":\"([^\"]*)\"", ReplacementDTypes[random.Next(ReplacementDTypes.Length)], random), data);
            case Mutation.ReplaceNumber:
                return Join(ReplaceMatch(header, "(-?\\d+)", ReplacementNumbers[random.Next(ReplacementNumbers.Length)], random), data);
            case Mutation.DuplicateEntry:
                return Join(DuplicateEntry(header, random), data);
            case Mutation.InsertInvalidUtf8:
                byte[][] invalid = [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80], [0xF4, 0x90, 0x80, 0x80]];
                return Join(JsonFuzz.Insert(header, invalid[random.Next(invalid.Length)], random), data);
            case Mutation.InsertJsonFragment:
                return Join(JsonFuzz.Insert(header, Encoding.UTF8.GetBytes(JsonFuzz.Fragments[random.Next(JsonFuzz.Fragments.Length)]), random), data);
            case Mutation.DeleteHeaderRange when header.Length > 0:
                int start = random.Next(header.Length), length = random.Next(1, Math.Min(16, header.Length - start) + 1);
                return Join([.. header[..start], .. header[(start + length)..]], data);
            case Mutation.ToggleMetadata:
                var text = Encoding.Latin1.GetString(header);
                text = text.Contains("\"__metadata__\"", StringComparison.Ordinal)
                    ? Regex.Replace(text, "\"__metadata__\":\\{[^}]*\\},?", "")
                    : text.StartsWith('{') ? "{\"__metadata__\":{\"a\":\"b\"}," + text[1..] : text;
                return Join(Encoding.Latin1.GetBytes(text), data);
            default:
                return bytes;
        }
    }

    /// <summary>Header and data by the current length prefix; when the prefix is not sane, the whole rest counts as header.</summary>
    private static (byte[] Header, byte[] Data) Split(byte[] bytes)
    {
        if (bytes.Length < 8) return ([], []);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return n <= (ulong)(bytes.Length - 8) ? (bytes[8..(8 + (int)n)], bytes[(8 + (int)n)..]) : (bytes[8..], []);
    }

    private static byte[] Join(byte[] header, byte[] data) => RawSafeTensorFile.Build(header, data);

    private static byte[] ReplaceMatch(byte[] header, string pattern, string replacement, Random random)
    {
        var text = Encoding.Latin1.GetString(header);
        var matches = Regex.Matches(text, pattern);
        if (matches.Count == 0) return header;
        var group = matches[random.Next(matches.Count)].Groups[1];
        return Encoding.Latin1.GetBytes(text[..group.Index] + replacement + text[(group.Index + group.Length)..]);
    }

    private static byte[] DuplicateEntry(byte[] header, Random random)
    {
        var text = Encoding.Latin1.GetString(header);
        var matches = Regex.Matches(text, "\"[^\"]*\":\\{\"dtype\"[^}]*\\}");
        if (matches.Count == 0) return header;
        var entry = matches[random.Next(matches.Count)];
        return Encoding.Latin1.GetBytes(text[..(entry.Index + entry.Length)] + "," + entry.Value + text[(entry.Index + entry.Length)..]);
    }

    /// <summary>The property for one input file.</summary>
    private void CheckFile(byte[] bytes)
    {
        var path = Dir.File(Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, bytes);
        try
        {
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            try
            {
                var file = SafeTensorFile.Open(path);
                CheckAccepted(file, bytes);
            }
            catch (SafeTensorException e)
            {
                Assert.Equal(path, e.FilePath);
                Assert.True(Enum.IsDefined(e.Rule));
            }
            catch (Exception e)
            {
                Assert.Fail($"{e.GetType().Name}: {e.Message}\ninput (base64): {Convert.ToBase64String(bytes)}\n{e}");
            }
            clock.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            Assert.True(clock.Elapsed < JsonFuzz.MaxTimePerCase, $"took {clock.Elapsed}; input (base64): {Convert.ToBase64String(bytes)}");
            Assert.True(allocated < MaxAllocationPerCase, $"allocated {allocated} bytes; input (base64): {Convert.ToBase64String(bytes)}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>An accepted file: tensors tile the data section exactly and every tensor's bytes read back as in the file.</summary>
    private static void CheckAccepted(SafeTensorFile file, byte[] bytes)
    {
        Assert.Equal(bytes.Length, file.FileLength);
        long expected = 0;
        foreach (var t in file.Tensors)
        {
            Assert.Equal(expected, t.Begin);
            Assert.True(t.End >= t.Begin);
            Assert.All(t.Shape, d => Assert.True(d >= 0));
            Assert.Equal(t.DType.ByteSize(t.ElementCount), t.ByteLength);
            Assert.Same(t, file.Find(t.Name));
            expected = t.End;
        }
        Assert.Equal(file.FileLength - file.DataStart, expected);
        foreach (var t in file.Tensors)
        {
            var buffer = new byte[t.ByteLength];
            file.ReadTensorBytes(t, 0, buffer);
            Assert.Equal(bytes.AsSpan((int)(file.DataStart + t.Begin), (int)t.ByteLength).ToArray(), buffer);
        }
    }

    [Fact]
    public void ValidFiles_AreAlwaysAccepted() =>
        Gen.Select(TensorsGen, Gen.Bool).Sample(x =>
        {
            var (tensors, metadata) = x;
            var bytes = RawSafeTensorFile.Valid(tensors, metadata ? new Dictionary<string, string> { ["format"] = "pt" } : null);
            var path = Dir.File(Guid.NewGuid().ToString("N") + ".safetensors");
            File.WriteAllBytes(path, bytes);
            var file = SafeTensorFile.Open(path);
            Assert.Equal(tensors.Select(t => t.Name).Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
            CheckAccepted(file, bytes);
            File.Delete(path);
        }, iter: FuzzBudget.Fraction(10));

    [Fact]
    public void MutatedFiles_AreAcceptedOrRefusedWithSafeTensorException() =>
        CaseGen.Sample(c => CheckFile(Mutate(c.Tensors, c.Metadata, c.Mutations, c.Seed)), iter: Iterations,
            print: c => $"{c.Tensors.Length} tensors, mutations [{string.Join(", ", c.Mutations)}], seed {c.Seed}: {Convert.ToBase64String(Mutate(c.Tensors, c.Metadata, c.Mutations, c.Seed))}");

    [Fact]
    public void RandomBytes_AreAcceptedOrRefusedWithSafeTensorException() =>
        Gen.Byte.Array[0, 64].Sample(CheckFile, iter: FuzzBudget.Fraction(4), print: b => Convert.ToBase64String(b));

    /// <summary>The mutations reach most reject rules and still leave some files valid (a fuzz that only ever hits HeaderNotJson proves little).</summary>
    [Fact]
    public void Mutations_ReachManyRulesAndSomeAcceptedFiles()
    {
        var random = new Random(12345);
        var rules = new HashSet<SafeTensorRule>();
        int accepted = 0;
        var mutations = Enum.GetValues<Mutation>();
        for (int i = 0; i < 3000; i++)
        {
            var tensors = Enumerable.Range(0, random.Next(1, 5))
                .Select(j => new RawTensor($"t{j}", ValidDTypes[random.Next(ValidDTypes.Length)], [random.Next(1, 4) * 2, random.Next(0, 3) * 2]))
                .ToArray();
            var bytes = Mutate(tensors, random.Next(2) == 0, [mutations[random.Next(mutations.Length)]], random.Next());
            var path = Dir.File($"cov{i}.safetensors");
            File.WriteAllBytes(path, bytes);
            try { SafeTensorFile.Open(path); accepted++; }
            catch (SafeTensorException e) { rules.Add(e.Rule); }
            File.Delete(path);
        }
        Assert.True(accepted > 0);
        Assert.True(rules.Count >= 12, $"only reached {string.Join(", ", rules)}");
    }
}
