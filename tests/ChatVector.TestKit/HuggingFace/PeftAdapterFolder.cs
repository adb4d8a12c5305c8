using System.Text.Json;
using System.Text.Json.Nodes;
using ChatVector.TestKit.Independent;

namespace ChatVector.TestKit;

/// <summary>One tensor of an adapter file as written by hand: its name in PEFT's layout, its shape and values.</summary>
public sealed record PeftTensor(string Name, long[] Shape, float[] Values);

/// <summary>
/// A LoRA adapter folder written by hand in PEFT's layout (adapter_config.json, adapter_model.safetensors), for tests that
/// must not depend on PEFT itself: the names (<c>base_model.model.&lt;module&gt;.lora_A.weight</c>, ...), a config with PEFT's
/// keys, and factor values that are exact in bf16 so that an expectation computed from them sees what the file holds.
/// </summary>
public static class PeftAdapterFolder
{
    public const string Prefix = "base_model.model.";

    public static string LoraA(string module) => $"{Prefix}{module}.lora_A.weight";
    public static string LoraB(string module) => $"{Prefix}{module}.lora_B.weight";
    public static string EmbeddingA(string module) => $"{Prefix}{module}.lora_embedding_A";
    public static string EmbeddingB(string module) => $"{Prefix}{module}.lora_embedding_B";
    /// <summary>A tensor saved whole (modules_to_save) under the model's own name.</summary>
    public static string Whole(string target) => Prefix + target;

    /// <summary>rows × cols values uniform in (−scale, scale), each exact in bf16.</summary>
    public static float[] Factor(long rows, long cols, int seed, float scale)
    {
        var random = new Random(seed);
        var values = new float[rows * cols];
        for (long i = 0; i < values.Length; i++) values[i] = Bf16.ToFloat(Bf16.FromFloat((random.NextSingle() * 2 - 1) * scale));
        return values;
    }

    /// <summary>adapter_config.json's text: PEFT's keys with their defaults, then <paramref name="overrides"/> (a null value writes null).</summary>
    public static string Config(int r, double alpha, IEnumerable<string> targetModules, IReadOnlyDictionary<string, object?>? overrides = null)
    {
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = "tiny-llama",
            ["r"] = r,
            ["lora_alpha"] = alpha,
            ["lora_dropout"] = 0.0,
            ["target_modules"] = new JsonArray(targetModules.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray()),
            ["use_rslora"] = false,
            ["use_dora"] = false,
            ["fan_in_fan_out"] = false,
            ["bias"] = "none",
            ["modules_to_save"] = null,
            ["rank_pattern"] = new JsonObject(),
            ["alpha_pattern"] = new JsonObject(),
            ["inference_mode"] = true,
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, object?>())
            config[key] = value is null ? null : JsonSerializer.SerializeToNode(value);
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes the folder: the config as given, the tensors in <paramref name="dtype"/> (BF16 or F32).</summary>
    public static void Write(string folder, string configJson, IEnumerable<PeftTensor> tensors, string dtype = "BF16")
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), configJson);
        SafeTensorsWriter.Write(Path.Combine(folder, "adapter_model.safetensors"),
            tensors.Select(t => (t.Name, dtype, t.Shape, dtype == "F32" ? TensorBytes.F32(t.Values) : TensorBytes.Bf16(t.Values))).ToList());
    }
}
