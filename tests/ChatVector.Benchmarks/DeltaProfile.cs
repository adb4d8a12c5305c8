using System.Buffers.Binary;
using System.Globalization;
using ChatVector.Core.Models;

namespace ChatVector.Benchmarks;

/// <summary>
/// How tied chat − base is in a generated trio, on the first layer's gate projection: the share of unchanged weights,
/// the distinct magnitudes, and the tie that TIES' threshold at density 0.3 falls into (every element of that tie
/// costs the exact selection its index tie-break).
/// </summary>
internal static class DeltaProfile
{
    public static string Describe(string dir)
    {
        const string name = "model.layers.0.mlp.gate_proj.weight";
        var @base = StoredModel.Open(Path.Combine(dir, "base")).Find(name);
        var chat = StoredModel.Open(Path.Combine(dir, "chat")).Find(name);
        if (@base is null || chat is null) return $"chat − base: no {name} to profile";
        var counts = new Dictionary<float, long>();
        var baseBytes = new byte[4 << 20];
        var chatBytes = new byte[4 << 20];
        for (long offset = 0; offset < @base.Info.ByteLength; offset += baseBytes.Length)
        {
            int n = (int)Math.Min(baseBytes.Length, @base.Info.ByteLength - offset);
            @base.File.ReadTensorBytes(@base.Info, offset, baseBytes.AsSpan(0, n));
            chat.File.ReadTensorBytes(chat.Info, offset, chatBytes.AsSpan(0, n));
            for (int i = 0; i + 1 < n; i += 2)
            {
                float magnitude = MathF.Abs(Bf16(chatBytes, i) - Bf16(baseBytes, i));
                counts[magnitude] = counts.GetValueOrDefault(magnitude) + 1;
            }
        }
        long total = counts.Values.Sum();
        long keep = (long)Math.Round(MergeMethods.Density * total);
        long below = 0;
        float boundary = 0;
        long boundaryTie = 0;
        foreach (var (magnitude, count) in counts.OrderBy(p => p.Key))
        {
            below += count;
            if (below >= total - keep) { boundary = magnitude; boundaryTie = count; break; }
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"chat − base in {name}: {100.0 * counts.GetValueOrDefault(0f) / total:F1}% unchanged, {counts.Count} distinct magnitudes; density {MergeMethods.Density}'s threshold {boundary:G3} is tied by {100.0 * boundaryTie / total:F1}% of the elements");
    }

    private static float Bf16(byte[] bytes, int at) => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at)) << 16);
}
