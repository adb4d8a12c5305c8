using System.Buffers.Binary;
using ChatVector.Core.Format;
using Newtonsoft.Json.Linq;

namespace ChatVector.Benchmarks;

/// <summary>Writes a LLaMA-shaped bf16 model of about the requested size, streaming its values (no tensor held whole).</summary>
internal static class TrioGenerator
{
    private const int Hidden = 2048, Intermediate = 5632, Vocab = 32000;

    public static void Write(string folder, double gigabytes, int seed)
    {
        Directory.CreateDirectory(folder);
        var tensors = Declarations(gigabytes);
        var shards = ShardPacker.Pack(tensors, ByteSize.Parse("500MB"));
        var random = new Random(seed);
        var weightMap = new Dictionary<string, string>();
        foreach (var shard in shards)
        {
            var prepared = SafeTensorWriter.Prepare(shard.Tensors, null);
            SafeTensorWriter.Write(Path.Combine(folder, shard.FileName), prepared, (info, stream) => Fill(stream, info.ByteLength, random), overwrite: true, default);
            foreach (var t in shard.Tensors) weightMap[t.Name] = shard.FileName;
        }
        if (shards.Count > 1) new ChatVector.Core.Models.ModelIndex(tensors.Sum(t => t.ByteLength), weightMap).Write(Path.Combine(folder, ChatVector.Core.Models.ModelIndex.FileName));
        WriteConfig(folder, tensors.Count(t => t.Name.EndsWith(".mlp.down_proj.weight", StringComparison.Ordinal)));
    }

    /// <summary>A complete LLaMA config.json (the inference benchmark runs the model; 16 heads of 128).</summary>
    public static void WriteConfig(string folder, int layers) =>
        File.WriteAllText(Path.Combine(folder, "config.json"), new JObject
        {
            ["architectures"] = new JArray("LlamaForCausalLM"),
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = 16,
            ["num_key_value_heads"] = 16,
            ["max_position_embeddings"] = 2048,
            ["vocab_size"] = Vocab,
            ["torch_dtype"] = "bfloat16",
        }.ToString());

    private static List<TensorDeclaration> Declarations(double gigabytes)
    {
        var tensors = new List<TensorDeclaration> { new("model.embed_tokens.weight", DType.BF16, [Vocab, Hidden]) };
        long perLayer = 2L * (4L * Hidden * Hidden + 3L * Hidden * Intermediate + 2 * Hidden);
        long budget = (long)(gigabytes * 1e9) - 2L * 2 * Vocab * Hidden;
        for (int i = 0; i < Math.Max(1, budget / perLayer); i++)
        {
            foreach (var p in new[] { "q", "k", "v", "o" }) tensors.Add(new($"model.layers.{i}.self_attn.{p}_proj.weight", DType.BF16, [Hidden, Hidden]));
            tensors.Add(new($"model.layers.{i}.mlp.gate_proj.weight", DType.BF16, [Intermediate, Hidden]));
            tensors.Add(new($"model.layers.{i}.mlp.up_proj.weight", DType.BF16, [Intermediate, Hidden]));
            tensors.Add(new($"model.layers.{i}.mlp.down_proj.weight", DType.BF16, [Hidden, Intermediate]));
            tensors.Add(new($"model.layers.{i}.input_layernorm.weight", DType.BF16, [Hidden]));
            tensors.Add(new($"model.layers.{i}.post_attention_layernorm.weight", DType.BF16, [Hidden]));
        }
        tensors.Add(new("model.norm.weight", DType.BF16, [Hidden]));
        tensors.Add(new("lm_head.weight", DType.BF16, [Vocab, Hidden]));
        return tensors;
    }

    /// <summary>Small random bf16 values (|x| &lt; 0.06), written through a 1 MB buffer.</summary>
    private static void Fill(Stream stream, long bytes, Random random)
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
}
