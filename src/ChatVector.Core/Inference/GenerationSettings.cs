using ChatVector.Core.Format;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Inference;

/// <summary>The end-of-sequence ids generation stops at: generation_config.json's eos_token_id (one id or a list), else config.json's.</summary>
public static class GenerationSettings
{
    public static IReadOnlySet<long> EosIds(string directory)
    {
        foreach (var file in new[] { "generation_config.json", LlamaConfig.FileName })
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path)) continue;
            var json = JsonProblems.ReadObjectFile(path, (detail, inner) => new InferenceException(InferenceProblem.InvalidConfig, $"{path}: {detail}.", path, inner));
            var ids = json["eos_token_id"] switch
            {
                JValue { Type: JTokenType.Integer } one => [(long)one],
                JArray many => many.OfType<JValue>().Where(v => v.Type == JTokenType.Integer).Select(v => (long)v).ToArray(),
                _ => Array.Empty<long>(),
            };
            if (ids.Length > 0) return ids.ToHashSet();
        }
        return new HashSet<long>();
    }
}
