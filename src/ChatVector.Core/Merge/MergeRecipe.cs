using System.Globalization;
using System.Text;
using ChatVector.Core.Sparsify;
using Newtonsoft.Json;
using ChatVector.Core.Format;
using Newtonsoft.Json.Linq;

namespace ChatVector.Core.Merge;

/// <summary>A special token given by its text (<c>-SpecialToken</c>), with the ids it has in the model and in the chat model.</summary>
public sealed record RecipeSpecialToken(string Token, long ModelId, long ChatId);

/// <summary>One chat vector as the recipe records it; <c>Sparsification</c> is how Limit-ChatVector thinned it, when it did.</summary>
public sealed record RecipeVector(string? BaseModel, string? ChatModel, double Ratio, int Tensors, string? Sparsification = null);

/// <summary>
/// How a merged model was made, recorded in every shard's metadata and in the model card so the
/// result can be reproduced and audited.
/// </summary>
public sealed record MergeRecipe(
    string Model,
    IReadOnlyList<RecipeVector> Vectors,
    bool SkipEmbedding,
    IReadOnlyDictionary<long, long> SpecialTokenMap,
    DType? OutputDType,
    VectorProvenance? TemplateOrigin,
    IReadOnlyList<string> SkippedTensors)
{
    public const string MetadataKey = "chatvector.recipe";

    /// <summary>The sign consensus the vectors were mixed with (<c>-Consensus</c>).</summary>
    public ConsensusMethod Consensus { get; init; } = ConsensusMethod.None;

    /// <summary>Whether the mix was divided by the kept (or all) ratios' sum (<c>-Normalize</c>).</summary>
    public bool Normalize { get; init; }

    /// <summary>mergekit's <c>lambda</c>: the mix's scale before it is added (<c>-Lambda</c>; 1 leaves it as it is).</summary>
    public double Lambda { get; init; } = 1.0;

    /// <summary>The mergekit method that merged the vectors (<c>Merge-ChatVector</c>), or null for the chat-vector sum (<c>Add-ChatVector</c>).</summary>
    public string? Method { get; init; }

    /// <summary>The method's checked parameter values: <c>merge</c> (merge-wide) and <c>models</c> (each model's), when <see cref="Method"/> is set.</summary>
    public JObject? MethodParameters { get; init; }

    /// <summary>Special tokens named by text, with their resolved ids (their rows are also in <see cref="SpecialTokenMap"/>).</summary>
    public IReadOnlyList<RecipeSpecialToken> SpecialTokens { get; init; } = [];

    public string ToJson()
    {
        var json = new JObject
        {
            ["method"] = Method ?? "chat_vector",
            ["model"] = Model,
            ["vectors"] = new JArray(Vectors.Select(v => new JObject
            {
                ["base"] = v.BaseModel,
                ["chat"] = v.ChatModel,
                ["ratio"] = v.Ratio,
                ["tensors"] = v.Tensors,
                ["sparsify"] = SparsifyProvenance.ToRecipe(v.Sparsification),
            })),
            ["consensus"] = Consensus.ToString().ToLowerInvariant(),
            ["normalize"] = Normalize,
            ["skip_embedding"] = SkipEmbedding,
            ["special_token_map"] = new JObject(SpecialTokenMap.Select(kv => new JProperty(kv.Key.ToString(CultureInfo.InvariantCulture), kv.Value))),
            ["special_tokens"] = new JArray(SpecialTokens.Select(t => new JObject
            {
                ["token"] = t.Token,
                ["model_id"] = t.ModelId,
                ["chat_id"] = t.ChatId,
            })),
            ["dtype"] = OutputDType?.ToString(),
            ["chat_template_from"] = TemplateOrigin?.ChatModel,
            ["skipped"] = new JArray(SkippedTensors),
        };
        if (Lambda != 1.0) json["lambda"] = Lambda; // only when set: recipes without it read as before
        if (MethodParameters is not null) json["parameters"] = MethodParameters;
        return json.ToString(Formatting.None);
    }

    /// <summary>A README.md model card: what was merged, how, and the recipe.</summary>
    public string ToModelCard()
    {
        var card = new StringBuilder();
        card.Line("---").Line("tags:").Line("- chat-vector").Line("- merge").Line("---").Line();
        card.Line("# Chat Vector merge").Line();
        if (Method is null)
        {
            card.Line("This model was made with ChatVector (the Chat Vector method, Huang et al., ACL 2024):");
            card.Line("`M = model + Σ ratio_i × (chat_i − base_i)`, computed in float32 with one rounding per tensor.").Line();
            card.Line($"- Model (continually pre-trained): `{Model}`");
        }
        else
        {
            card.Line($"This model was made with ChatVector: mergekit's `{Method}` of the task vectors below over the base model,");
            card.Line("computed in float32 with one rounding per tensor.").Line();
            card.Line($"- Base model: `{Model}`");
            card.Line($"- Method: `{Method}`, parameters `{MethodParameters?.ToString(Formatting.None)}`");
        }
        foreach (var v in Vectors)
            card.Line(string.Create(CultureInfo.InvariantCulture, $"- Vector: ratio {v.Ratio} × (`{v.ChatModel ?? "?"}` − `{v.BaseModel ?? "?"}`), {v.Tensors} tensors{Sparsified(v)}"));
        if (Method is null) card.Line($"- Mixing: {MixingText()}");
        if (Method is null) card.Line($"- Embeddings: {(SkipEmbedding ? "left as the model's (-SkipEmbedding)" : "merged on shared rows")}");
        if (SpecialTokens.Count > 0)
            card.Line($"- Special tokens by text: {string.Join(", ", SpecialTokens.Select(t => $"`{t.Token}` (model id {t.ModelId} ← chat id {t.ChatId})"))}");
        if (SpecialTokenMap.Count > 0)
            card.Line($"- Special-token rows taken from the chat model: {string.Join(", ", SpecialTokenMap.Select(kv => $"{kv.Key}←{kv.Value}"))}");
        if (OutputDType is not null) card.Line($"- Output dtype: {OutputDType}");
        if (TemplateOrigin is not null) card.Line($"- Chat template, eos token and generation eos_token_id from: `{TemplateOrigin.ChatModel}`");
        if (SkippedTensors.Count > 0)
        {
            card.Line("- Tensors without a chat vector (-SkipMismatched), kept as the model's:");
            foreach (var skipped in SkippedTensors) card.Line($"  - skipped: {skipped}");
        }
        card.Line().Line("## Recipe").Line().Line("```json");
        card.Line(PortableText.IndentedJson(JToken.Parse(ToJson()))).Line("```");
        return card.ToString();
    }

    private static string Sparsified(RecipeVector v) =>
        v.Sparsification is null ? "" : $", sparsified ({SparsifyProvenance.Describe(v.Sparsification)})";

    private string MixingText()
    {
        var consensus = Consensus switch
        {
            ConsensusMethod.Sum => "sign consensus by sum (an element keeps the contributions whose sign is that of Σ ratio × vector)",
            ConsensusMethod.Count => "sign consensus by count (an element keeps the contributions whose sign has the most votes)",
            _ => "every contribution summed",
        };
        var normalize = !Normalize ? ""
            : Consensus == ConsensusMethod.None ? "; divided by the sum of the ratios"
            : "; divided by the sum of the kept contributions' ratios";
        var scale = Lambda == 1.0 ? "" : string.Create(CultureInfo.InvariantCulture, $"; the mix multiplied by lambda {Lambda}");
        return consensus + normalize + scale;
    }
}
