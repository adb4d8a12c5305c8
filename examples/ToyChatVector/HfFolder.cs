using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ChatVector.Core.Format;
using static TorchSharp.torch;

namespace ToyChatVector;

/// <summary>A model as a Hugging Face folder: model.safetensors (laid out by ChatVector.Core's
/// SafeTensorWriter), config.json, generation_config.json, tokenizer.json, tokenizer_config.json.</summary>
public static class HfFolder
{
    public static void Write(string folder, ToyLlama model, ToyVocabulary vocabulary)
    {
        Directory.CreateDirectory(folder);
        var names = ToyLlama.Layout(model.Config).Select(l => l.Name).ToList();
        var prepared = SafeTensorWriter.Prepare(
            names.Select(n => new TensorDeclaration(n, DType.F32, model.Weights[n].shape)),
            new Dictionary<string, string> { ["toy_chat_vector"] = Path.GetFileName(folder) });
        using (var file = File.Create(Path.Combine(folder, "model.safetensors")))
        {
            file.Write(prepared.HeaderWithLength);
            foreach (var info in prepared.Layout)
            {
                var values = model.Weights[info.Name].detach().contiguous().data<float>().ToArray();
                file.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }
        }
        File.WriteAllText(Path.Combine(folder, "config.json"), model.Config.ConfigJson(vocabulary));
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), ToyModelConfig.GenerationConfigJson(vocabulary));
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), vocabulary.TokenizerJson());
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), vocabulary.TokenizerConfigJson());
    }

    /// <summary>Reads a folder written here or by Export-SafeTensor (one or more *.safetensors; F32 or BF16).</summary>
    public static ToyLlama Read(string folder)
    {
        using var configJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        var c = configJson.RootElement;
        var config = new ToyModelConfig(
            c.GetProperty("vocab_size").GetInt32(), c.GetProperty("hidden_size").GetInt32(), c.GetProperty("intermediate_size").GetInt32(),
            c.GetProperty("num_hidden_layers").GetInt32(), c.GetProperty("num_attention_heads").GetInt32(), c.GetProperty("num_key_value_heads").GetInt32());
        var weights = new Dictionary<string, Tensor>();
        foreach (var path in Directory.GetFiles(folder, "*.safetensors"))
            ReadFile(path, weights);
        return ToyLlama.FromWeights(config, weights);
    }

    private static void ReadFile(string path, Dictionary<string, Tensor> into)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        long dataStart = 8 + headerLength;
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var span = bytes.AsSpan((int)(dataStart + offsets[0]), (int)(offsets[1] - offsets[0]));
            float[] values = dtype switch
            {
                "F32" => MemoryMarshal.Cast<byte, float>(span).ToArray(),
                "BF16" => MemoryMarshal.Cast<byte, ushort>(span).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray(),
                _ => throw new InvalidDataException($"{path}: tensor '{entry.Name}' is {dtype}; the toy evaluator reads F32 and BF16."),
            };
            into[entry.Name] = tensor(values, shape);
        }
    }
}
