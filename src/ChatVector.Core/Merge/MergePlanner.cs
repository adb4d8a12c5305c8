using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Merge;

/// <summary>
/// Decides, per tensor of the model, what the merged tensor is: the model's own (bit-identical),
/// or a <see cref="MergedTensor"/> with its vector terms and special-token rows. Computes nothing.
/// </summary>
public static class MergePlanner
{
    public static MergePlan Plan(MergeRequest request)
    {
        var notes = new List<string>();
        var problems = new List<string>();
        var model = request.Model;
        var vectorsByName = request.Vectors.GroupBy(v => v.Vector.Name).ToDictionary(g => g.Key, g => g.ToList());
        var unused = FindUnusedVectors(model, vectorsByName.Keys, notes);
        var specialRows = SpecialTokenRows.Resolve(request, problems);

        var outputs = new List<ITensorSource>(model.Tensors.Count);
        foreach (var stored in model.Tensors)
        {
            var source = new StoredTensorSource(stored);
            var terms = vectorsByName.TryGetValue(stored.Name, out var inputs) ? PlanTerms(request, source, inputs, notes, problems) : [];
            var overrides = specialRows?.For(source, problems) ?? [];
            var outputDType = request.OutputDType is { } wanted && stored.Info.DType.IsComputable() ? wanted : stored.Info.DType;
            outputs.Add(terms.Count == 0 && overrides.Count == 0 && outputDType == stored.Info.DType
                ? source
                : new MergedTensor(source, terms, overrides, outputDType, request.Mix));
        }
        var recipe = DescribeRecipe(request, model, specialRows);
        return new MergePlan(outputs, notes, unused, problems, recipe, TemplateWarnings(recipe));
    }

    private static List<string> FindUnusedVectors(StoredModel model, IEnumerable<string> vectorNames, List<string> notes)
    {
        var unused = new List<string>();
        foreach (var name in vectorNames.Where(n => model.Find(n) is null))
        {
            if (model.TiedEmbeddings && HuggingFaceNames.IsLmHead(name))
                notes.Add($"'{name}': the model ties its LM head to the input embedding, so the embedding's vector applies to both and this one is not added.");
            else
                unused.Add(name);
        }
        return unused;
    }

    private static List<VectorTerm> PlanTerms(MergeRequest request, StoredTensorSource target, List<VectorInput> inputs, List<string> notes, List<string> problems)
    {
        var terms = new List<VectorTerm>();
        bool embedding = HuggingFaceNames.IsEmbedding(target.Name);
        if (request.SkipEmbedding && embedding)
        {
            notes.Add($"'{target.Name}': left as the model's (-SkipEmbedding).");
            return terms;
        }
        if (!target.DType.IsComputable())
        {
            problems.Add($"'{target.Name}': the model's tensor is {target.DType}; a vector can only be added to F16, BF16, F32 or F64 tensors.");
            return terms;
        }
        foreach (var input in inputs)
        {
            var vector = input.Vector;
            if (vector.Shape.SequenceEqual(target.Shape))
                terms.Add(new VectorTerm(vector, input.Ratio));
            else if (embedding && CoversLeadingRows(vector.Shape, target.Shape))
            {
                notes.Add($"'{target.Name}': the model has {target.Shape[0]} rows, the vector {vector.Shape[0]}: the vector is added to rows 0-{vector.Shape[0] - 1}, rows {vector.Shape[0]}-{target.Shape[0] - 1} (the extended vocabulary) are kept as the model's.");
                terms.Add(new VectorTerm(vector, input.Ratio));
            }
            else
                problems.Add($"'{target.Name}': model shape [{string.Join(", ", target.Shape)}], vector shape [{string.Join(", ", vector.Shape)}]" +
                    (embedding ? "; use -SkipEmbedding to keep the model's embeddings." : "."));
        }
        return terms;
    }

    /// <summary>An extended vocabulary: same row length, the model has more rows than the vector.</summary>
    private static bool CoversLeadingRows(long[] vector, long[] model) =>
        vector.Length == 2 && model.Length == 2 && vector[1] == model[1] && vector[0] < model[0];

    private static MergeRecipe DescribeRecipe(MergeRequest request, StoredModel model, SpecialTokenRows? specialRows)
    {
        var vectors = request.Vectors
            .GroupBy(v => (v.Provenance?.BaseModel, v.Provenance?.ChatModel, v.Ratio, v.Provenance?.Sparsification))
            .Select(g => new RecipeVector(g.Key.BaseModel, g.Key.ChatModel, g.Key.Ratio, g.Count(), g.Key.Sparsification))
            .ToList();
        return new MergeRecipe(
            model.Path,
            vectors,
            request.SkipEmbedding,
            specialRows?.Map ?? request.SpecialTokenMap ?? new Dictionary<long, long>(),
            request.OutputDType,
            TemplateOrigin(request),
            request.Vectors.SelectMany(v => v.Provenance?.SkippedTensors ?? []).Distinct().ToList())
        {
            Consensus = request.Mix.Consensus,
            Normalize = request.Mix.Normalize,
            Lambda = request.Mix.Lambda,
            SpecialTokens = specialRows?.Tokens ?? [],
        };
    }

    private static List<string> TemplateWarnings(MergeRecipe recipe) =>
        recipe.TemplateOrigin is { LacksExpectedTokenizerSettings: true } source
            ? [$"{source.ChatModel} has no chat_template or eos_token in tokenizer_config.json; the output keeps the model's."]
            : [];

    /// <summary>The chat model the vectors came from: the last vector's (as the authors' script does).</summary>
    public static VectorProvenance? VectorOrigin(MergeRequest request) =>
        request.Vectors.Select(v => v.Provenance).LastOrDefault(p => p is not null);

    /// <summary>Where the output's chat template and eos token come from: -ChatTemplateFrom, else the vectors' chat model.</summary>
    public static VectorProvenance? TemplateOrigin(MergeRequest request) =>
        request.ChatTemplateFrom is { } chosen ? VectorProvenance.FromModels(null, chosen) : VectorOrigin(request);
}
