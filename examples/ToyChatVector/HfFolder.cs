using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using ChatVector.TestKit.Training;
using static TorchSharp.torch;

namespace ToyChatVector;

/// <summary>A model as a Hugging Face folder: model.safetensors (F32, tensors in name order, as ChatVector's own writer
/// lays them out), config.json, generation_config.json, tokenizer.json, tokenizer_config.json; written and read by the
/// test kit.</summary>
public static class HfFolder
{
    public static void Write(string folder, TinyLlama model, ToyVocabulary vocabulary)
    {
        Directory.CreateDirectory(folder);
        var entries = model.F32Entries().OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        SafeTensorsWriter.Write(Path.Combine(folder, ModelFolder.SingleFile), entries,
            new Dictionary<string, string> { ["toy_chat_vector"] = Path.GetFileName(folder), ["format"] = "pt" });
        File.WriteAllText(Path.Combine(folder, LlamaConfigJson.FileName), ToyModelConfig.ConfigJson(model.Config, vocabulary));
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), ToyModelConfig.GenerationConfigJson(vocabulary));
        File.WriteAllText(Path.Combine(folder, WordLevelTokenizer.FileName), vocabulary.TokenizerJson());
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), vocabulary.TokenizerConfigJson());
    }

    /// <summary>Reads a folder written here or by Export-SafeTensor (one or more *.safetensors; F32 or BF16).</summary>
    public static TinyLlama Read(string folder)
    {
        using var configJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, LlamaConfigJson.FileName)));
        var c = configJson.RootElement;
        var config = ToyModelConfig.For(
            c.GetProperty("vocab_size").GetInt32(), c.GetProperty("hidden_size").GetInt32(), c.GetProperty("intermediate_size").GetInt32(),
            c.GetProperty("num_hidden_layers").GetInt32(), c.GetProperty("num_attention_heads").GetInt32(), c.GetProperty("num_key_value_heads").GetInt32());
        var weights = new Dictionary<string, Tensor>();
        foreach (var (name, (file, entry)) in IndependentSafeTensorReader.ReadFolder(folder))
        {
            if (entry.DType is not ("F32" or "BF16"))
                throw new InvalidDataException($"{folder}: tensor '{name}' is {entry.DType}; the toy evaluator reads F32 and BF16.");
            weights[name] = tensor(file.Values(name).Select(v => (float)v).ToArray(), entry.Shape);
        }
        return TinyLlama.FromWeights(config, weights);
    }
}
