using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Core.Config;

/// <summary>
/// Embeddings and LM heads of different vocabulary sizes in a config without a tokenizer setting, taken as mergekit's
/// method takes them (<see cref="MergeMethod.VocabularyRows"/>): every input cut to the same leading rows (those every
/// input has, or the base's), each cut read as the first rows of the stored tensor, so nothing past them is read. A
/// method without such a rule, rows of different widths, or a model with fewer rows than a base it must be cut to, is a
/// problem of the config. What is cut is said in <see cref="Warnings"/>: the tokens past the cut have no rows.
/// </summary>
internal sealed class VocabularyCut
{
    private readonly Dictionary<string, long> _rows;

    private VocabularyCut(Dictionary<string, long> rows, long? vocabSize, IReadOnlyList<string> warnings)
    {
        _rows = rows;
        VocabSize = vocabSize;
        Warnings = warnings;
    }

    /// <summary>
    /// config.json's vocab_size when the cut leaves the output's embedding fewer rows than the reference model's config
    /// says, else null. mergekit keeps the reference's value there, which transformers refuses to load against the
    /// smaller embedding; the output gets the number of rows written instead.
    /// </summary>
    public long? VocabSize { get; }

    /// <summary>Each cut, with the sizes and the tokens left without rows; and the vocab_size written when it changes.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Whether tensor <paramref name="name"/> is cut (its inputs' rows differ).</summary>
    public bool Cuts(string name) => _rows.ContainsKey(name);

    /// <summary>The rows of <paramref name="tensor"/> (any input's tensor of a cut name) that the output keeps, as a stored tensor of its first bytes.</summary>
    public StoredTensorSource Rows(StoredTensor tensor)
    {
        var info = tensor.Info;
        long kept = _rows[tensor.Name];
        if (kept == info.Shape[0]) return new StoredTensorSource(tensor);
        // Rows are contiguous in row-major order: the first rows are a prefix of the tensor's bytes.
        long rowBytes = info.ByteLength / info.Shape[0];
        return new StoredTensorSource(tensor with { Info = info with { Shape = [kept, .. info.Shape[1..]], End = info.Begin + kept * rowBytes } });
    }

    /// <param name="reference">The model whose tensors the output follows (the base, or the first model of a merge without one), named as the messages say it.</param>
    /// <param name="models">The other models merged, with their config entries.</param>
    public static VocabularyCut Plan(MergeMethod method, (string Role, StoredModel Model) reference, IReadOnlyList<(ConfigModel Entry, StoredModel Model)> models,
        List<string> problems)
    {
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        var warnings = new List<string>();
        foreach (var tensor in reference.Model.Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name)))
        {
            long[] shape = tensor.Info.Shape;
            var inputs = models.Select(m => (m.Entry, Tensor: m.Model.Find(tensor.Name))).Where(m => m.Tensor is not null)
                .Select(m => (m.Entry, Shape: m.Tensor!.Info.Shape)).ToList();
            if (inputs.All(m => m.Shape.SequenceEqual(shape))) continue;
            string sizes = string.Join(", ", [$"{reference.Role} [{string.Join(", ", shape)}]", .. inputs.Select(m => $"'{m.Entry.Reference}' [{string.Join(", ", m.Shape)}]")]);
            if (shape.Length != 2 || inputs.Any(m => m.Shape.Length != 2 || m.Shape[1] != shape[1]))
            {
                problems.Add($"tensor '{tensor.Name}' has rows of different widths ({sizes}); only the number of rows (the vocabulary size) may differ.");
                continue;
            }
            // A cut reads the stored rows, which would leave out what an adapter changes in them.
            var lora = inputs.Where(m => m.Entry.LoraPath is not null).Select(m => m.Entry.Reference).ToList();
            if (lora.Count > 0)
            {
                problems.Add($"tensor '{tensor.Name}' has different numbers of rows ({sizes}); cutting them with a LoRA adapter on {string.Join(", ", lora.Select(r => $"'{r}'"))} is not supported yet: give 'tokenizer_source' to map the vocabularies.");
                continue;
            }
            switch (method.VocabularyRows)
            {
                case VocabularyRowRule.CommonRows:
                {
                    long common = Math.Min(shape[0], inputs.Min(m => m.Shape[0]));
                    rows[tensor.Name] = common;
                    warnings.Add($"tensor '{tensor.Name}': {method.Name} merges the {common} rows every model has ({sizes}), as mergekit does without a tokenizer setting; the tokens from id {common} up have no row in the output.");
                    break;
                }
                case VocabularyRowRule.BaseRows:
                {
                    var fewer = inputs.Where(m => m.Shape[0] < shape[0]).ToList();
                    if (fewer.Count > 0)
                    {
                        problems.Add($"tensor '{tensor.Name}': {string.Join(", ", fewer.Select(m => $"'{m.Entry.Reference}' has {m.Shape[0]} rows"))}, fewer than {reference.Role}'s {shape[0]}; " +
                            $"{method.Name} cuts each model to the base's rows and cannot extend one (mergekit fails on it too): give 'tokenizer_source' to map the vocabularies.");
                        continue;
                    }
                    rows[tensor.Name] = shape[0];
                    warnings.Add($"tensor '{tensor.Name}': {method.Name} takes the first {shape[0]} rows of each model, {reference.Role}'s number ({sizes}), as mergekit does without a tokenizer setting; " +
                        $"the tokens from id {shape[0]} up of {string.Join(", ", inputs.Where(m => m.Shape[0] > shape[0]).Select(m => $"'{m.Entry.Reference}'"))} have no row in the output.");
                    break;
                }
                default:
                    problems.Add($"tensor '{tensor.Name}' has a different number of rows (vocabulary size) in the models ({sizes}); {method.Name} does not merge embeddings of different sizes " +
                        $"(mergekit's {method.Name} fails on them; linear, slerp, nuslerp, model_stock and arcee_fusion take the rows every model has): give 'tokenizer_source' to map the vocabularies onto one.");
                    break;
            }
        }
        return new VocabularyCut(rows, OutputVocabSize(reference, rows, problems, warnings), warnings);
    }

    /// <summary>The output's vocab_size when the cut changes the reference's input embedding's rows; a problem when the vocabulary tensors would disagree.</summary>
    private static long? OutputVocabSize((string Role, StoredModel Model) reference, Dictionary<string, long> rows, List<string> problems, List<string> warnings)
    {
        var vocabularyTensors = reference.Model.Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name)).ToList();
        if (rows.Count == 0 || vocabularyTensors.Count == 0) return null;
        var written = vocabularyTensors.Select(t => (t.Name, Rows: rows.TryGetValue(t.Name, out var kept) ? kept : t.Info.Shape[0])).ToList();
        if (written.Select(w => w.Rows).Distinct().Count() > 1 && vocabularyTensors.Select(t => t.Info.Shape[0]).Distinct().Count() == 1)
        {
            problems.Add($"the cut would leave the vocabulary tensors with different numbers of rows ({string.Join(", ", written.Select(w => $"'{w.Name}' {w.Rows}"))}), which no config.json vocab_size fits: give 'tokenizer_source' to map the vocabularies.");
            return null;
        }
        var embedding = vocabularyTensors.FirstOrDefault(t => !HuggingFaceNames.IsLmHead(t.Name)) ?? vocabularyTensors[0];
        long before = embedding.Info.Shape[0], after = written.First(w => w.Name == embedding.Name).Rows;
        if (after == before) return null;
        // mergekit leaves config.json as the reference's (it changes vocab_size only for a tokenizer setting), which
        // transformers cannot load against the smaller embedding; the output says the rows it holds instead.
        warnings.Add($"config.json's vocab_size is {after}, the rows written ({reference.Role}'s is {before}; mergekit keeps that, and transformers cannot load it against {after} rows); " +
            $"the tokenizer is {reference.Role}'s: its ids from {after} up have no row.");
        return after;
    }
}
