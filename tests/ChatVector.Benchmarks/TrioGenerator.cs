using System.Buffers.Binary;
using System.Globalization;
using ChatVector.Core.Format;
using ChatVector.TestKit;

namespace ChatVector.Benchmarks;

/// <summary>How chat and cp relate to base in a generated trio.</summary>
internal enum TrioKind
{
    /// <summary>
    /// As a real fine-tune: chat and cp are base plus a small delta, rounded to bf16, so chat − base is a few bf16 steps
    /// of each weight; its magnitudes take few distinct values and tie in large numbers (what an exact selection must handle).
    /// </summary>
    Realistic,
    /// <summary>Three independent uniform random models (|x| &lt; 0.06): chat − base is large and smooth, almost without ties.</summary>
    Independent,
}

/// <summary>The LLaMA dimensions a generated model takes (vocabulary 32000 in both).</summary>
internal sealed record ModelShape(string Name, int Hidden, int Intermediate, int Heads)
{
    public const int Vocab = 32000;

    /// <summary>Hidden 2048, intermediate 5632 (TinyLlama-like): every tensor but the embedding and head fits the 16M keys a selection keeps.</summary>
    public static readonly ModelShape H2048 = new("h2048", 2048, 5632, 16);
    /// <summary>LLaMA-7B layers: the MLP tensors have 45M elements, more than the 16M keys a selection keeps in memory.</summary>
    public static readonly ModelShape Llama7B = new("llama7b", 4096, 11008, 32);

    public static ModelShape Parse(string name) => name.ToLowerInvariant() switch
    {
        "h2048" => H2048,
        "llama7b" => Llama7B,
        _ => throw new ArgumentException($"unknown shape '{name}' (h2048, llama7b)"),
    };

    /// <summary>bf16 bytes of one decoder layer: q, k, v, o, gate, up, down and two norms.</summary>
    public long LayerBytes => 2L * (4L * Hidden * Hidden + 3L * Hidden * Intermediate + 2L * Hidden);

    /// <summary>bf16 bytes of the embedding and the output head (full vocabulary, untied).</summary>
    public long EmbeddingAndHeadBytes => 2L * 2 * Vocab * Hidden;

    /// <summary>
    /// The layers of a model of about <paramref name="gigabytes"/> GB: the embedding and head whole, then as many whole
    /// layers as fit in the rest, at least one (h2048: 1 GB → 7 layers, 0.98 GB; 8 GB → 75 layers, 7.97 GB; llama7b: 1 GB → 1 layer, 0.93 GB;
    /// 8 GB → 18 layers, 7.81 GB).
    /// </summary>
    public int Layers(double gigabytes) => (int)Math.Max(1, ((long)(gigabytes * 1e9) - EmbeddingAndHeadBytes) / LayerBytes);
}

/// <summary>One generated trio: its shape, kind, size per model and (realistic kind) the delta's width in bf16 steps.</summary>
internal sealed record TrioSpec(ModelShape Shape, TrioKind Kind, double Gigabytes, double DeltaUlps)
{
    public const double DefaultDeltaUlps = 1.5;

    /// <summary>The trio's folder name under the benchmark's work folder: every parameter that changes its bytes.</summary>
    public string FolderName => string.Create(CultureInfo.InvariantCulture,
        $"{Shape.Name}-{(Kind == TrioKind.Realistic ? $"realistic{DeltaUlps:0.##}ulp" : "independent")}-{Gigabytes:0.##}GB");

    /// <summary>The arguments of the "gen" child that writes it.</summary>
    public string[] GenerateArguments(string dir) =>
    [
        "gen", dir, Gigabytes.ToString(CultureInfo.InvariantCulture), Shape.Name,
        Kind == TrioKind.Realistic ? "realistic" : "independent", DeltaUlps.ToString(CultureInfo.InvariantCulture),
    ];

    public static TrioKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "realistic" => TrioKind.Realistic,
        "independent" => TrioKind.Independent,
        _ => throw new ArgumentException($"unknown kind '{name}' (realistic, independent)"),
    };
}

/// <summary>Writes LLaMA-shaped bf16 models of about the requested size, streaming their values (no tensor held whole).</summary>
internal static class TrioGenerator
{
    public static readonly string[] Roles = ["base", "chat", "cp"];

    /// <summary>Writes base, chat and cp of <paramref name="spec"/> under <paramref name="dir"/>.</summary>
    public static void WriteTrio(string dir, TrioSpec spec)
    {
        var tensors = Declarations(spec.Shape, spec.Gigabytes);
        for (int role = 0; role < Roles.Length; role++)
        {
            var folder = Path.Combine(dir, Roles[role]);
            if (spec.Kind == TrioKind.Independent)
            {
                // One random stream through the whole model, seeded by role: the bytes of the generator before realistic trios.
                var random = new Random(role + 1);
                WriteModel(folder, spec.Shape, tensors, (_, info, stream) => FillUniform(stream, info.ByteLength, random));
            }
            else
            {
                var fill = new RealisticFill(role == 0 ? null : role, spec.DeltaUlps);
                WriteModel(folder, spec.Shape, tensors, (index, info, stream) => fill.Write(stream, index, info));
            }
        }
    }

    private static void WriteModel(string folder, ModelShape shape, List<TensorDeclaration> tensors, Action<int, TensorInfo, Stream> fill)
    {
        Directory.CreateDirectory(folder);
        var indexOf = tensors.Select((t, i) => (t.Name, i)).ToDictionary(p => p.Name, p => p.i);
        var shards = ShardPacker.Pack(tensors, ByteSize.Parse("500MB"));
        var weightMap = new Dictionary<string, string>();
        foreach (var shard in shards)
        {
            var prepared = SafeTensorWriter.Prepare(shard.Tensors, null);
            SafeTensorWriter.Write(Path.Combine(folder, shard.FileName), prepared, (info, stream) => fill(indexOf[info.Name], info, stream), overwrite: true, default);
            foreach (var t in shard.Tensors) weightMap[t.Name] = shard.FileName;
        }
        if (shards.Count > 1) new ChatVector.Core.Models.ModelIndex(tensors.Sum(t => t.ByteLength), weightMap).Write(Path.Combine(folder, ChatVector.Core.Models.ModelIndex.FileName));
        WriteConfig(folder, shape, tensors.Count(t => t.Name.EndsWith(".mlp.down_proj.weight", StringComparison.Ordinal)));
    }

    /// <summary>A complete LLaMA config.json (the inference benchmark runs the model; heads of 128).</summary>
    public static void WriteConfig(string folder, ModelShape shape, int layers) =>
        new LlamaConfigJson
        {
            VocabSize = ModelShape.Vocab,
            HiddenSize = shape.Hidden,
            IntermediateSize = shape.Intermediate,
            HiddenLayers = layers,
            AttentionHeads = shape.Heads,
            KeyValueHeads = shape.Heads,
            MaxPositionEmbeddings = 2048,
            TorchDtype = "bfloat16",
        }.Write(folder);

    /// <summary>Every weight of <paramref name="shape"/> with as many layers as <paramref name="gigabytes"/> allow, in
    /// checkpoint order (which fixes each tensor's seed and shard), all bf16.</summary>
    private static List<TensorDeclaration> Declarations(ModelShape shape, double gigabytes) =>
        LlamaWeights.Of(new LlamaDimensions(ModelShape.Vocab, shape.Hidden, shape.Intermediate, shape.Layers(gigabytes), shape.Heads, shape.Heads))
            .Select(w => new TensorDeclaration(w.Name, DType.BF16, w.Shape)).ToList();

    /// <summary>Small random bf16 values (|x| &lt; 0.06), written through a 1 MB buffer (the independent kind).</summary>
    private static void FillUniform(Stream stream, long bytes, Random random)
    {
        var buffer = new byte[1 << 20];
        for (long done = 0; done < bytes; done += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, bytes - done);
            for (int i = 0; i + 1 < n; i += 2)
            {
                float value = (random.NextSingle() - 0.5f) * 0.12f;
                BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i), (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
            }
            stream.Write(buffer, 0, n);
        }
    }

    /// <summary>
    /// The realistic kind. Each tensor's base values come from a stream seeded by the tensor's index alone, so base,
    /// chat and cp draw the same base weight for each element (chat and cp regenerate it instead of reading base back):
    /// matrices ~ N(0, 0.02²), norms ~ 1 + N(0, 0.02²), rounded to bf16. chat and cp add d = k · ulp(b) · z, z ~ N(0, 1)
    /// from a stream of their own (k = <c>--delta-ulps</c>), and round to bf16: with k = 1.5 about a quarter of the
    /// weights keep their value (|1.5 z| &lt; 0.5) and most others move one or two bf16 steps, so chat − base takes few
    /// distinct magnitudes (a few multiples of the step, per binade of the weights; the generator prints the count).
    /// </summary>
    private sealed class RealisticFill(int? deltaRole, double deltaUlps)
    {
        private const float Std = 0.02f;
        private readonly byte[] _buffer = new byte[1 << 20];
        private readonly float _k = (float)deltaUlps;

        public void Write(Stream stream, int tensorIndex, TensorInfo info)
        {
            float center = info.Shape.Length == 1 ? 1f : 0f;
            var weights = new NormalStream(Seed(0, tensorIndex));
            var deltas = deltaRole is int role ? new NormalStream(Seed(role, tensorIndex)) : null;
            for (long done = 0; done < info.ByteLength; done += _buffer.Length)
            {
                int n = (int)Math.Min(_buffer.Length, info.ByteLength - done);
                for (int i = 0; i + 1 < n; i += 2)
                {
                    float b = RoundToBf16(center + Std * weights.Next());
                    float value = deltas is null ? b : RoundToBf16(b + _k * Bf16Step(b) * deltas.Next());
                    BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(i), (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
                }
                stream.Write(_buffer, 0, n);
            }
        }

        private static ulong Seed(int role, int tensorIndex) => 0x9E3779B97F4A7C15UL * (ulong)(tensorIndex + 1) ^ ((ulong)role << 56) ^ 0xC0FFEE;

        /// <summary>Round to nearest even bf16, kept as a float32 (finite inputs only: these values are all small).</summary>
        private static float RoundToBf16(float x)
        {
            uint bits = BitConverter.SingleToUInt32Bits(x);
            bits += 0x7FFFu + ((bits >> 16) & 1);
            return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
        }

        /// <summary>The distance from a bf16 value to the next one away from zero: 2^(exponent − 7), 7 stored mantissa bits.</summary>
        private static float Bf16Step(float b)
        {
            int exponent = (int)((BitConverter.SingleToUInt32Bits(b) >> 23) & 0xFF);
            return exponent > 7 ? BitConverter.UInt32BitsToSingle((uint)(exponent - 7) << 23) : float.Epsilon;
        }
    }

    /// <summary>
    /// Cheap approximately normal draws from SplitMix64: the sum of the four 16-bit quarters of one 64-bit draw
    /// (Irwin–Hall, mean 0 and variance 1 after scaling; tails end at 3.46σ, which a benchmark does not miss).
    /// </summary>
    private sealed class NormalStream(ulong seed)
    {
        private const float Scale = 1.7320508f / 65536f; // sqrt(12 / 4) over the quarters' range
        private ulong _state = seed;

        public float Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            long sum = (long)(z & 0xFFFF) + (long)((z >> 16) & 0xFFFF) + (long)((z >> 32) & 0xFFFF) + (long)(z >> 48);
            return (sum - 4 * 32767.5f) * Scale;
        }
    }
}
