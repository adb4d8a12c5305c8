using ChatVector.TestKit.Independent;

namespace ChatVector.TestKit;

/// <summary>
/// Writes small LLaMA-shaped bf16 model folders for tests, by hand (the kit's writers, no project code), and
/// remembers every value it wrote (as the float each bf16 stands for), so tests can compute expected results
/// independently of the code under test.
/// </summary>
public sealed class LlamaModelBuilder
{
    public int Layers { get; init; } = 2;
    public int Hidden { get; init; } = 16;
    /// <summary>config.json's num_attention_heads, or null to leave it out (transformers then assumes 32, which a model this small cannot run).</summary>
    public int? Heads { get; init; }
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
    /// <summary>
    /// When set, the model is a fine-tune of these values (another builder's, by tensor name): each value a few bf16
    /// steps from the original. Embedding and LM head rows are matched by token text through <see cref="FineTuneOfTokens"/>
    /// and <see cref="TokenizerVocab"/>: a token the original has starts from its row, a new token's row is random.
    /// </summary>
    public IReadOnlyDictionary<string, float[]>? FineTuneOf { get; init; }
    /// <summary>The vocabulary of <see cref="FineTuneOf"/>'s model (token i is its row i).</summary>
    public IReadOnlyList<string>? FineTuneOfTokens { get; init; }
    /// <summary>
    /// When set, the model is a fine-tune of the model of this seed (written with the same dimensions): each of its values
    /// moved by up to <see cref="FineTuneSteps"/> bf16 steps either way (a tenth left as they are), drawn from <see cref="Seed"/>.
    /// </summary>
    public int? FineTuneOfSeed { get; init; }
    public int FineTuneSteps { get; init; } = 3;

    /// <summary>One head of Hidden: every attention matrix is Hidden × Hidden.</summary>
    public LlamaDimensions Dimensions => new(Vocab, Hidden, Intermediate, Layers) { Tied = Tied };

    public IEnumerable<(string Name, long[] Shape)> TensorShapes() => LlamaWeights.Of(Dimensions);

    /// <summary>Writes the folder; returns every tensor's values (bf16-exact floats) by name.</summary>
    public Dictionary<string, float[]> Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(Seed);
        var tensors = TensorShapes().ToList();
        var values = Values(FineTuneOfSeed is { } original ? new Random(original) : random);
        if (FineTuneOfSeed is not null)
            foreach (var (name, _) in tensors)
                values[name] = values[name].Select(v => Moved(v, random.Next(10) == 0 ? 0 : random.Next(-FineTuneSteps, FineTuneSteps + 1))).ToArray();
        if (FineTuneOf is not null)
            foreach (var (name, shape) in tensors)
                values[name] = FineTuned(name, shape, values[name], random);

        var shards = tensors.Select((t, i) => (t, i)).GroupBy(x => x.i * Shards / tensors.Count, x => x.t)
            .Select(group => group.Select(t => (t.Name, "BF16", t.Shape, TensorBytes.Bf16(values[t.Name]))).ToList())
            .ToList();
        if (WithBuffer) shards[0].Add(("model.rotary_emb.inv_freq_ids", "I64", [4L], new byte[32]));
        ModelFolder.WriteWeights(folder, shards, new Dictionary<string, string> { ["format"] = "pt" });
        WriteSideFiles(folder);
        return values;
    }

    /// <summary>Every tensor's values drawn from <paramref name="random"/>, bf16-exact.</summary>
    private Dictionary<string, float[]> Values(Random random)
    {
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in TensorShapes())
            values[name] = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b))
                .Select(_ => Bf16.ToFloat(Bf16.FromFloat((random.NextSingle() - 0.5f) * 0.2f))).ToArray();
        return values;
    }

    /// <summary><paramref name="value"/> moved by <paramref name="steps"/> bf16 steps away from zero (toward it when negative), never across it.</summary>
    private static float Moved(float value, int steps)
    {
        if (steps == 0) return value;
        ushort bits = Bf16.FromFloat(value);
        int magnitude = Math.Max(1, (bits & 0x7FFF) + steps);
        return Bf16.ToFloat((ushort)((bits & 0x8000) | magnitude));
    }

    /// <summary>The original's values a few bf16 steps away; rows of a vocabulary tensor by token (a new token keeps its random row).</summary>
    private float[] FineTuned(string name, long[] shape, float[] fresh, Random random)
    {
        if (!FineTuneOf!.TryGetValue(name, out var original)) return fresh;
        float Step(float value)
        {
            float stepped = Bf16.ToFloat((ushort)(Bf16.FromFloat(value) + random.Next(-3, 4)));
            return float.IsFinite(stepped) && Math.Sign(stepped) == Math.Sign(value) ? stepped : value;
        }
        bool byToken = name.EndsWith("embed_tokens.weight", StringComparison.Ordinal) || name == "lm_head.weight";
        if (!byToken) return original.Length == fresh.Length ? original.Select(Step).ToArray() : fresh;
        var tokens = TokenizerVocab ?? throw new InvalidOperationException("a fine-tune's vocabulary rows need TokenizerVocab");
        var originalRows = (FineTuneOfTokens ?? throw new InvalidOperationException("a fine-tune's vocabulary rows need FineTuneOfTokens"))
            .Select((token, row) => (token, row)).ToDictionary(x => x.token, x => x.row, StringComparer.Ordinal);
        int width = (int)shape[1];
        var result = (float[])fresh.Clone();
        for (int row = 0; row < shape[0] && row < tokens.Count; row++)
            if (originalRows.TryGetValue(tokens[row], out int from))
                for (int c = 0; c < width; c++) result[row * width + c] = Step(original[from * width + c]);
        return result;
    }

    private void WriteSideFiles(string folder)
    {
        new LlamaConfigJson
        {
            ModelType = "llama",
            VocabSize = Vocab,
            HiddenSize = Hidden,
            IntermediateSize = Intermediate,
            HiddenLayers = Layers,
            AttentionHeads = Heads,
            TieWordEmbeddings = Tied,
            TorchDtype = "bfloat16",
        }.Write(folder);
        ModelFolder.WriteGenerationConfig(folder, bosTokenId: 1, GenerationEosTokenId);
        ModelFolder.WriteTokenizerConfig(folder, EosToken ?? "</s>", modelMaxLength: 2048, ChatTemplate);
        File.WriteAllText(Path.Combine(folder, WordLevelTokenizer.FileName), TokenizerVocab is null
            ? "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}"
            : TokenizerJson(TokenizerVocab));
        ModelFolder.WriteSpecialTokensMap(folder, "</s>");
    }

    /// <summary>A WordLevel tokenizer.json (whitespace pre-tokenizer); tokens written &lt;|...|&gt; are added tokens only.</summary>
    public static string TokenizerJson(IReadOnlyList<string> tokens)
    {
        bool IsAdded(string token) => token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal);
        return WordLevelTokenizer.Json(tokens.Select(t => (t, IsAdded(t))).ToList(), unkToken: tokens[0], specialsInVocab: false);
    }
}
