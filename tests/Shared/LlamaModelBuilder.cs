using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatVector.Tests.Shared;

/// <summary>
/// Writes small LLaMA-shaped bf16 model folders for tests, by hand (its own header JSON, no project
/// code), and remembers every value it wrote (as the float each bf16 stands for), so tests can compute
/// expected results independently of the code under test.
/// </summary>
public sealed class LlamaModelBuilder
{
    public int Layers { get; init; } = 2;
    public int Hidden { get; init; } = 16;
    public int Intermediate { get; init; } = 24;
    public int Vocab { get; init; } = 40;
    /// <summary>Ties lm_head to the embedding: no lm_head tensor, tie_word_embeddings true.</summary>
    public bool Tied { get; init; }
    /// <summary>Number of shard files (1 writes model.safetensors without an index).</summary>
    public int Shards { get; init; } = 3;
    public int Seed { get; init; } = 1;
    public string? ChatTemplate { get; init; }
    public string? EosToken { get; init; }
    /// <summary>
    /// When set, a real (WordLevel) tokenizer.json whose token i is TokenizerVocab[i]; tokens written as
    /// <c>&lt;|...|&gt;</c> are added (special) tokens, the others the model's vocabulary. Otherwise a stub.
    /// </summary>
    public IReadOnlyList<string>? TokenizerVocab { get; init; }
    /// <summary>generation_config.json's eos_token_id.</summary>
    public int GenerationEosTokenId { get; init; } = 2;
    /// <summary>Extra integer buffers (I64), as some checkpoints hold.</summary>
    public bool WithBuffer { get; init; }

    public IEnumerable<(string Name, int[] Shape)> TensorShapes()
    {
        yield return ("model.embed_tokens.weight", [Vocab, Hidden]);
        for (int i = 0; i < Layers; i++)
        {
            foreach (var p in new[] { "q", "k", "v", "o" }) yield return ($"model.layers.{i}.self_attn.{p}_proj.weight", [Hidden, Hidden]);
            yield return ($"model.layers.{i}.mlp.gate_proj.weight", [Intermediate, Hidden]);
            yield return ($"model.layers.{i}.mlp.up_proj.weight", [Intermediate, Hidden]);
            yield return ($"model.layers.{i}.mlp.down_proj.weight", [Hidden, Intermediate]);
            yield return ($"model.layers.{i}.input_layernorm.weight", [Hidden]);
            yield return ($"model.layers.{i}.post_attention_layernorm.weight", [Hidden]);
        }
        yield return ("model.norm.weight", [Hidden]);
        if (!Tied) yield return ("lm_head.weight", [Vocab, Hidden]);
    }

    /// <summary>Writes the folder; returns every tensor's values (bf16-exact floats) by name.</summary>
    public Dictionary<string, float[]> Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(Seed);
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var tensors = TensorShapes().ToList();
        foreach (var (name, shape) in tensors)
            values[name] = Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b))
                .Select(_ => Bf16.ToFloat(Bf16.FromFloat((random.NextSingle() - 0.5f) * 0.2f))).ToArray();

        var groups = tensors.Select((t, i) => (t, i)).GroupBy(x => x.i * Shards / tensors.Count, x => x.t).ToList();
        var weightMap = new JsonObject();
        long total = 0;
        for (int s = 0; s < groups.Count; s++)
        {
            var file = groups.Count == 1 ? "model.safetensors" : $"model-{s + 1:D5}-of-{groups.Count:D5}.safetensors";
            var entries = groups[s].Select(t => (t.Name, "BF16", t.Shape.Select(d => (long)d).ToArray(), Bf16Bytes(values[t.Name]))).ToList();
            if (WithBuffer && s == 0) entries.Add(("model.rotary_emb.inv_freq_ids", "I64", [4L], new byte[32]));
            WriteFile(Path.Combine(folder, file), entries, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var e in entries) { weightMap[e.Item1] = file; total += e.Item4.Length; }
        }
        if (groups.Count > 1)
            File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
                new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap }.ToJsonString());
        WriteSideFiles(folder);
        return values;
    }

    private void WriteSideFiles(string folder)
    {
        File.WriteAllText(Path.Combine(folder, "config.json"), new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = Layers,
            ["vocab_size"] = Vocab,
            ["tie_word_embeddings"] = Tied,
            ["torch_dtype"] = "bfloat16",
        }.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), $"{{\"bos_token_id\": 1, \"eos_token_id\": {GenerationEosTokenId}}}");
        var tokenizer = new JsonObject { ["tokenizer_class"] = "PreTrainedTokenizerFast", ["eos_token"] = EosToken ?? "</s>", ["model_max_length"] = 2048 };
        if (ChatTemplate is not null) tokenizer["chat_template"] = ChatTemplate;
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokenizer.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), TokenizerVocab is null
            ? "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}"
            : TokenizerJson(TokenizerVocab));
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), "{\"eos_token\": \"</s>\"}");
    }

    /// <summary>A WordLevel tokenizer.json (whitespace pre-tokenizer); tokens written &lt;|...|&gt; are added tokens only.</summary>
    public static string TokenizerJson(IReadOnlyList<string> tokens)
    {
        bool IsAdded(string token) => token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal);
        return WordLevelTokenizer.Json(tokens.Select(t => (t, IsAdded(t))).ToList(), unkToken: tokens[0], specialsInVocab: false);
    }

    public static byte[] Bf16Bytes(float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), Bf16.FromFloat(values[i]));
        return bytes;
    }

    /// <summary>One safetensors file from raw entries, offsets in the given order, header padded to 8.</summary>
    public static void WriteFile(string path, IReadOnlyList<(string Name, string DType, long[] Shape, byte[] Data)> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null) header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        long offset = 0;
        foreach (var (name, dtype, shape, data) in entries)
        {
            header[name] = new JsonObject { ["dtype"] = dtype, ["shape"] = new JsonArray(shape.Select(d => (JsonNode?)d).ToArray()), ["data_offsets"] = new JsonArray(offset, offset + data.Length) };
            offset += data.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = json.Length + (8 - (8 + json.Length) % 8) % 8;
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(json);
        for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
        foreach (var entry in entries) file.Write(entry.Data);
    }
}
