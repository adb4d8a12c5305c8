using ChatVector.Core.Format;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Models;

/// <summary><c>model.safetensors.index.json</c>: total size and which shard holds each tensor.</summary>
public sealed record ModelIndex(long TotalSize, IReadOnlyDictionary<string, string> WeightMap)
{
    public const string FileName = "model.safetensors.index.json";

    /// <summary>Tensor names in the order the index lists them.</summary>
    public IReadOnlyList<string> Order { get; init; } = WeightMap.Keys.ToList();

    /// <summary>Reads and checks the index (JSON object, weight_map of string to a plain file name inside the folder).</summary>
    public static ModelIndex Read(string path)
    {
        JObject root;
        try
        {
            using var reader = new JsonTextReader(File.OpenText(path)) { MaxDepth = 64 };
            root = JToken.ReadFrom(reader, new JsonLoadSettings { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error }) as JObject
                ?? throw new ModelFolderException(ModelFolderRule.IndexInvalid, path, "the index is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelFolderException(ModelFolderRule.IndexInvalid, path, $"the index is not valid JSON{JsonProblems.Where(e)}", inner: e);
        }
        if (root["weight_map"] is not JObject map)
            throw new ModelFolderException(ModelFolderRule.IndexInvalid, path, "the index has no weight_map object");
        // An empty map would make a model of no tensors, which every reader of it would take for a model read whole.
        if (!map.HasValues)
            throw new ModelFolderException(ModelFolderRule.IndexInvalid, path, "weight_map lists no tensors; a sharded model's index maps each tensor name to its shard file");
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var entry in map.Properties())
        {
            if (entry.Value.Type != JTokenType.String)
                throw new ModelFolderException(ModelFolderRule.IndexInvalid, path, $"weight_map maps '{entry.Name}' to a {JsonProblems.Describe(entry.Value.Type)}, not a file name");
            var file = (string)entry.Value!;
            if (!IsPlainFileName(file))
                throw new ModelFolderException(ModelFolderRule.PathOutsideFolder, path, $"weight_map maps '{entry.Name}' to '{file}', which is not a file inside the model folder");
            if (PortableFileName.Problem(file) is { } problem)
                throw new ModelFolderException(ModelFolderRule.NonPortableName, path, $"weight_map maps '{entry.Name}' to '{file}', which {problem}; rename the shard and its weight_map entries");
            weightMap[entry.Name] = file;
            order.Add(entry.Name);
        }
        // total_size is informative only; a value that is not a 64-bit integer (found by fuzzing: 1e20) is ignored.
        long total = root["metadata"] is JObject metadata && metadata["total_size"] is JValue { Value: long size } ? size : -1;
        return new ModelIndex(total, weightMap) { Order = order };
    }

    /// <summary>Shard names come from downloaded files: refuse anything that could reach outside the folder.</summary>
    private static bool IsPlainFileName(string file) =>
        file.Length > 0 && file != "." && file != ".." && file.IndexOfAny(['/', '\\', ':', '\0']) < 0 && !Path.IsPathRooted(file);

    /// <summary>Writes the index in transformers' form (metadata.total_size, weight_map sorted by name).</summary>
    public void Write(string path)
    {
        var json = new JObject
        {
            ["metadata"] = new JObject { ["total_size"] = TotalSize },
            ["weight_map"] = new JObject(WeightMap.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new JProperty(kv.Key, kv.Value))),
        };
        File.WriteAllText(path, PortableText.IndentedJson(json));
    }
}
