using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ChatVector.Core.Format;
using ChatVector.Core.Models;
using CsCheck;
using Xunit;

namespace ChatVector.Core.Tests.Models;

/// <summary>
/// Mutation fuzzing of the index reader: a valid model.safetensors.index.json damaged byte-wise or value-wise
/// must be read (and then be consistent) or refused with a <see cref="ModelFolderException"/>, quickly.
/// Cases per property: <see cref="FuzzBudget"/> (CHATVECTOR_FUZZ_ITERATIONS).
/// </summary>
public sealed class ModelIndexFuzzTests : TempDirTest
{
    private const string ValidIndex =
        "{\"metadata\":{\"total_size\":48},\"weight_map\":{\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\",\"lm_head.weight\":\"model-00002-of-00002.safetensors\"}}";

    private static readonly string[] IndexValues =
        ["[]", "{}", "5", "-1", "null", "true", "\"x\"", "\"../x.safetensors\"", "\"\"", "99999999999999999999", "1e999", "{\"total_size\":1}", "[[[[[[]]]]]]"];

    private enum IndexMutation { FlipByte, OverwriteByte, Truncate, InsertFragment, DeleteRange, ReplaceValue }

    private static readonly Gen<(IndexMutation[] Mutations, int Seed)> IndexCaseGen =
        Gen.Select(Gen.Enum<IndexMutation>().Array[1, 4], Gen.Int);

    private static byte[] MutateIndex(IndexMutation[] mutations, int seed, bool structural)
    {
        var random = new Random(seed);
        var bytes = Encoding.UTF8.GetBytes(ValidIndex);
        foreach (var m in mutations)
        {
            switch (m)
            {
                case IndexMutation.FlipByte when bytes.Length > 0:
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case IndexMutation.OverwriteByte when bytes.Length > 0:
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    break;
                case IndexMutation.Truncate:
                    bytes = bytes[..random.Next(bytes.Length + 1)];
                    break;
                case IndexMutation.InsertFragment:
                    bytes = JsonFuzz.Insert(bytes, Encoding.UTF8.GetBytes(JsonFuzz.Fragments[random.Next(JsonFuzz.Fragments.Length)]), random);
                    break;
                case IndexMutation.DeleteRange when bytes.Length > 0:
                    int start = random.Next(bytes.Length), length = random.Next(1, Math.Min(16, bytes.Length - start) + 1);
                    bytes = [.. bytes[..start], .. bytes[(start + length)..]];
                    break;
                case IndexMutation.ReplaceValue when structural:
                    // Replace the value after one of the keys (the metadata object, total_size, weight_map, or a shard name).
                    var text = Encoding.Latin1.GetString(bytes);
                    var keys = Regex.Matches(text, "\"[^\"]*\":");
                    if (keys.Count == 0) break;
                    var key = keys[random.Next(keys.Count)];
                    int valueStart = key.Index + key.Length;
                    int valueEnd = ValueEnd(text, valueStart);
                    text = text[..valueStart] + IndexValues[random.Next(IndexValues.Length)] + text[valueEnd..];
                    bytes = Encoding.Latin1.GetBytes(text);
                    break;
            }
        }
        return bytes;
    }

    /// <summary>End of the JSON value starting at <paramref name="start"/> (bracket counting; good enough for the fuzz).</summary>
    private static int ValueEnd(string text, int start)
    {
        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString) { if (c == '\\') i++; else if (c == '"') { inString = false; if (depth == 0) return i + 1; } continue; }
            if (c == '"') inString = true;
            else if (c is '{' or '[') depth++;
            else if (c is '}' or ']') { if (depth == 0) return i; if (--depth == 0) return i + 1; }
            else if (c == ',' && depth == 0) return i;
        }
        return text.Length;
    }

    private void CheckIndex(byte[] bytes)
    {
        var path = Dir.File(Guid.NewGuid().ToString("N") + ".index.json");
        File.WriteAllBytes(path, bytes);
        try
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var index = ModelIndex.Read(path);
                Assert.Equal(index.WeightMap.Count, index.Order.Count);
                Assert.All(index.WeightMap.Values, v => Assert.Equal(Path.GetFileName(v), v));
            }
            catch (ModelFolderException e)
            {
                Assert.Equal(path, e.FilePath);
            }
            catch (Exception e)
            {
                Assert.Fail($"{e.GetType().Name}: {e.Message}\ninput (base64): {Convert.ToBase64String(bytes)}\n{e}");
            }
            Assert.True(clock.Elapsed < JsonFuzz.MaxTimePerCase, $"took {clock.Elapsed}; input (base64): {Convert.ToBase64String(bytes)}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MutatedIndexBytes_AreReadOrRefusedWithModelFolderException() =>
        IndexCaseGen.Sample(c => CheckIndex(MutateIndex(c.Mutations, c.Seed, structural: false)), iter: FuzzBudget.Iterations,
            print: c => Convert.ToBase64String(MutateIndex(c.Mutations, c.Seed, structural: false)));

    [Fact]
    public void MutatedIndexValues_AreReadOrRefusedWithModelFolderException() =>
        IndexCaseGen.Sample(c => CheckIndex(MutateIndex(c.Mutations, c.Seed, structural: true)), iter: FuzzBudget.Iterations,
            print: c => Convert.ToBase64String(MutateIndex(c.Mutations, c.Seed, structural: true)));

    /// <summary>Inputs that crashed ModelIndex.Read with a non-ModelFolderException.</summary>
    [Theory]
    // found by MutatedIndexValues: {"metadata":[[[[[[]]]]]],"weight_map":{...}} -> ArgumentException
    [InlineData("eyJtZXRhZGF0YSI6W1tbW1tbXV1dXV1dLCJ3ZWlnaHRfbWFwIjp7Im1vZGVsLmVtYmVkX3Rva2Vucy53ZWlnaHQiOiJtb2RlbC0wMDAwMS1vZi0wMDAwMi5zYWZldGVuc29ycyIsImxtX2hlYWQud2VpZ2h0IjoibW9kZWwtMDAwMDItb2YtMDAwMDIuc2FmZXRlbnNvcnMifX0=")]
    // {"metadata":5,"weight_map":{}} -> InvalidOperationException
    [InlineData("eyJtZXRhZGF0YSI6NSwid2VpZ2h0X21hcCI6e319")]
    // {"metadata":{"total_size":99999999999999999999},"weight_map":{}} -> OverflowException
    [InlineData("eyJtZXRhZGF0YSI6eyJ0b3RhbF9zaXplIjo5OTk5OTk5OTk5OTk5OTk5OTk5OX0sIndlaWdodF9tYXAiOnt9fQ==")]
    public void Regression_IndexWithOddMetadata_IsRefusedWithModelFolderException(string base64) => CheckIndex(Convert.FromBase64String(base64));
}
