using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatVector.TestKit;

/// <summary>
/// The files of a Hugging Face model folder other than config.json (<see cref="LlamaConfigJson"/>): the weights as
/// one model.safetensors or as shards with model.safetensors.index.json, and the small side files.
/// </summary>
public static class ModelFolder
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>The name of shard <paramref name="shard"/> (from 1) of <paramref name="count"/>: model-00001-of-00003.safetensors.</summary>
    public static string ShardName(int shard, int count) => $"model-{shard:D5}-of-{count:D5}.safetensors";

    /// <summary>
    /// Writes <paramref name="shards"/> (each a list of tensors) as model.safetensors when there is one, else as
    /// model-0000i-of-0000n.safetensors and the index (total_size: the sum of the data bytes; weight_map in the
    /// tensors' order). Every file gets <paramref name="metadata"/>.
    /// </summary>
    public static void WriteWeights(string folder, IReadOnlyList<IReadOnlyList<(string Name, string DType, long[] Shape, byte[] Data)>> shards, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(folder);
        var weightMap = new JsonObject();
        long total = 0;
        for (int s = 0; s < shards.Count; s++)
        {
            var file = shards.Count == 1 ? SingleFile : ShardName(s + 1, shards.Count);
            SafeTensorsWriter.Write(Path.Combine(folder, file), shards[s], metadata);
            foreach (var entry in shards[s]) { weightMap[entry.Name] = file; total += entry.Data.Length; }
        }
        if (shards.Count > 1)
            File.WriteAllText(Path.Combine(folder, IndexFile),
                new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap }.ToJsonString());
    }

    /// <summary>generation_config.json with a bos and an eos token id.</summary>
    public static void WriteGenerationConfig(string folder, int bosTokenId, int eosTokenId) =>
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), $"{{\"bos_token_id\": {bosTokenId}, \"eos_token_id\": {eosTokenId}}}");

    /// <summary>tokenizer_config.json of a fast tokenizer: its eos token, and a maximum length and chat template when given.</summary>
    public static void WriteTokenizerConfig(string folder, string eosToken, int? modelMaxLength = null, string? chatTemplate = null)
    {
        var json = new JsonObject { ["tokenizer_class"] = "PreTrainedTokenizerFast", ["eos_token"] = eosToken };
        if (modelMaxLength is not null) json["model_max_length"] = modelMaxLength;
        if (chatTemplate is not null) json["chat_template"] = chatTemplate;
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), json.ToJsonString());
    }

    /// <summary>special_tokens_map.json naming the eos token (written as is: '&lt;' and '&gt;' unescaped).</summary>
    public static void WriteSpecialTokensMap(string folder, string eosToken) =>
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), $"{{\"eos_token\": {JsonSerializer.Serialize(eosToken, Readable)}}}");

    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
