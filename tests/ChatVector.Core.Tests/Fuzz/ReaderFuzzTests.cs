using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tests.Format;
using CsCheck;
using Xunit;

namespace ChatVector.Core.Tests.Fuzz;

/// <summary>
/// Mutation fuzzing of the readers: valid files and indexes are damaged at random (length prefix,
/// header bytes, dtypes, shapes, offsets, truncation, trailing bytes, duplicates, invalid UTF-8) and every
/// case must end in success or a <see cref="SafeTensorException"/>, quickly and without large allocation.
/// CI runs CHATVECTOR_FUZZ_ITERATIONS (default 1500) cases per property; set it to 200000 for a long run.
/// </summary>
public class ReaderFuzzTests
{
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("CHATVECTOR_FUZZ_ITERATIONS"), out var n) ? n : 1500;
    private static readonly string[] DTypeNames = Enum.GetNames<DType>();

    /// <summary>A valid file: a few tensors of random dtypes and small shapes, laid out contiguously.</summary>
    private static readonly Gen<string> ValidHeader =
        Gen.Select(Gen.Int[1, 4], Gen.Int[0, 1000]).Select((count, seed) =>
        {
            var random = new Random(seed);
            var entries = new List<string>();
            long offset = 0;
            for (int i = 0; i < count; i++)
            {
                var dtype = (DType)random.Next(0, 19); // whole-byte types
                var shape = Enumerable.Range(0, random.Next(0, 3)).Select(_ => (long)random.Next(0, 4)).ToArray();
                long bytes = dtype.ByteSize(shape.Aggregate(1L, (a, b) => a * b))!.Value;
                entries.Add($"\"t{i}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
                offset += bytes;
            }
            return "{\"__metadata__\":{\"format\":\"pt\"}," + string.Join(",", entries) + "}|" + offset;
        });

    private static readonly string[] Replacements =
    [
        "-1", "18446744073709551615", "99999999999999999999", "4294967296", "1e9", "0.5", "null", "\"x\"", "[]", "{}",
        "\"F33\"", "\"BF16\"", "\"\\ud800\"", "[0,0]", "[1,0]", "[4294967296,4294967296,16]", ",\"t0\":{}", "",
    ];

    private static byte[] Mutate(string validHeaderAndLength, int kind, int position, int value, int pick)
    {
        var split = validHeaderAndLength.LastIndexOf('|');
        var header = validHeaderAndLength[..split];
        var data = new byte[long.Parse(validHeaderAndLength[(split + 1)..])];
        switch (kind % 7)
        {
            case 0: // replace a token-ish span of the JSON with something hostile
                int at = position % (header.Length + 1);
                int len = Math.Min(value % 6, header.Length - at);
                header = header[..at] + Replacements[pick % Replacements.Length] + header[(at + len)..];
                break;
            case 1: // a dtype swapped
                header = header.Replace("\"dtype\":\"", "\"dtype\":\"" + DTypeNames[pick % DTypeNames.Length] + "\",\"x\":\"");
                break;
            case 2: // a number changed
                header = System.Text.RegularExpressions.Regex.Replace(header, @"\d+", m => m.Index == position % header.Length || pick % 5 == 0 ? Replacements[value % 5] : m.Value, System.Text.RegularExpressions.RegexOptions.None);
                break;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = RawFiles.Build(headerBytes, data);
        switch (kind % 7)
        {
            case 3: // length prefix
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, pick % 2 == 0 ? (ulong)value : ulong.MaxValue - (ulong)value);
                break;
            case 4: // random bytes flipped (invalid UTF-8 among them)
                for (int i = 0; i < 1 + value % 4; i++) bytes[(position + i * 31) % bytes.Length] ^= (byte)(0x80 | pick);
                break;
            case 5: // truncated
                Array.Resize(ref bytes, position % (bytes.Length + 1));
                break;
            case 6: // trailing bytes
                Array.Resize(ref bytes, bytes.Length + 1 + value % 9);
                break;
        }
        return bytes;
    }

    [Fact]
    public void Mutated_files_open_or_fail_with_a_rule_never_anything_else()
    {
        var directory = Directory.CreateTempSubdirectory("chatvector-fuzz-").FullName;
        int accepted = 0, rejected = 0;
        try
        {
            Gen.Select(ValidHeader, Gen.Int[0, 6], Gen.Int[0, 4096], Gen.Int[0, 1 << 20], Gen.Int[0, 255])
                .Sample((valid, kind, position, value, pick) =>
                {
                    var path = Path.Combine(directory, $"case-{Environment.CurrentManagedThreadId}.safetensors");
                    File.WriteAllBytes(path, Mutate(valid, kind, position, value, pick));
                    var clock = Stopwatch.StartNew();
                    long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                    try
                    {
                        var file = SafeTensorFile.Open(path);
                        foreach (var tensor in file.Tensors) file.ReadTensorBytes(tensor, 0, new byte[tensor.ByteLength]);
                        Interlocked.Increment(ref accepted);
                    }
                    catch (SafeTensorException e)
                    {
                        Assert.Contains(Path.GetFileName(path), e.Message);
                        Interlocked.Increment(ref rejected);
                    }
                    Assert.True(clock.ElapsedMilliseconds < 2000, "too slow");
                    Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 64 << 20, "allocated too much");
                }, iter: Iterations, threads: 1);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
        Assert.True(accepted > 0 && rejected > 0, $"accepted {accepted}, rejected {rejected}: the mutations should produce both");
    }

    /// <summary>Regression found by the index fuzzer: a total_size beyond 64 bits crashed with OverflowException.</summary>
    [Fact]
    public void Index_with_a_huge_total_size_is_read()
    {
        var directory = Directory.CreateTempSubdirectory("chatvector-fuzz-regression-").FullName;
        try
        {
            var path = Path.Combine(directory, ModelIndex.FileName);
            File.WriteAllText(path, "{\"metadata\":{\"total_size\":99999999999999999999},\"weight_map\":{\"a\":\"x.safetensors\"}}");
            Assert.Equal(-1, ModelIndex.Read(path).TotalSize);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void Mutated_indexes_are_read_or_refused_with_a_rule()
    {
        var directory = Directory.CreateTempSubdirectory("chatvector-fuzz-index-").FullName;
        const string valid = "{\"metadata\":{\"total_size\":16},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}";
        try
        {
            Gen.Select(Gen.Int[0, valid.Length], Gen.Int[0, 6], Gen.Int[0, 255]).Sample((at, len, pick) =>
            {
                var text = valid[..at] + Replacements[pick % Replacements.Length] + valid[Math.Min(valid.Length, at + len)..];
                var path = Path.Combine(directory, ModelIndex.FileName);
                File.WriteAllText(path, text);
                try { ModelIndex.Read(path); }
                catch (SafeTensorException) { }
            }, iter: Iterations, threads: 1);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
}
