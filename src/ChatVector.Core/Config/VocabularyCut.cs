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
        var vocabularyTensors = reference.Model.Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name)).ToList();
        foreach (var tensor in vocabularyTensors) CutTensor(method, reference.Role, tensor, models, rows, warnings, problems);
        var written = vocabularyTensors.Select(t => (t.Name, Stored: t.Info.Shape[0])).ToList();
        return new VocabularyCut(rows, OutputVocabSize(reference.Role, reference.Model, written, rows, problems, warnings), warnings);
    }

    /// <summary>
    /// The cut of a config with <c>slices:</c>: the tensors before the layers (the input embedding) are merged from the
    /// first slice's sources and those after them (the LM head) from the last slice's, as mergekit plans them, so each is
    /// cut among its own sources.
    /// </summary>
    /// <param name="output">The model whose config.json the output takes (the base_model, or the first slice's base source).</param>
    /// <param name="first">The first slice's base source and its other sources.</param>
    /// <param name="last">The last slice's base source and its other sources.</param>
    /// <param name="isBeforeLayers">Whether a vocabulary tensor comes before the layers (from the first slice).</param>
    public static VocabularyCut PlanSlices(MergeMethod method, (string Role, StoredModel Model) output,
        (string Role, StoredModel Model, IReadOnlyList<(ConfigModel Entry, StoredModel Model)> Others) first,
        (string Role, StoredModel Model, IReadOnlyList<(ConfigModel Entry, StoredModel Model)> Others) last,
        Func<string, bool> isBeforeLayers, List<string> problems)
    {
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        var warnings = new List<string>();
        var written = new List<(string Name, long Stored)>();
        foreach (var (slice, before) in new[] { (first, true), (last, false) })
            foreach (var tensor in slice.Model.Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name) && isBeforeLayers(t.Name) == before))
            {
                CutTensor(method, slice.Role, tensor, slice.Others, rows, warnings, problems);
                written.Add((tensor.Name, tensor.Info.Shape[0]));
            }
        return new VocabularyCut(rows, OutputVocabSize(output.Role, output.Model, written, rows, problems, warnings), warnings);
    }

    /// <summary>The rows <paramref name="tensor"/> of <paramref name="role"/> keeps when the <paramref name="models"/> merged with it have other numbers of rows, into <paramref name="rows"/>.</summary>
    private static void CutTensor(MergeMethod method, string role, StoredTensor tensor, IReadOnlyList<(ConfigModel Entry, StoredModel Model)> models,
        Dictionary<string, long> rows, List<string> warnings, List<string> problems)
    {
        long[] shape = tensor.Info.Shape;
        var inputs = models.Select(m => (m.Entry, Tensor: m.Model.Find(tensor.Name))).Where(m => m.Tensor is not null)
            .Select(m => (m.Entry, Shape: m.Tensor!.Info.Shape)).ToList();
        if (inputs.All(m => m.Shape.SequenceEqual(shape))) return;
        string sizes = string.Join(", ", [$"{role} [{string.Join(", ", shape)}]", .. inputs.Select(m => $"'{m.Entry.Reference}' [{string.Join(", ", m.Shape)}]")]);
        if (shape.Length != 2 || inputs.Any(m => m.Shape.Length != 2 || m.Shape[1] != shape[1]))
        {
            problems.Add($"tensor '{tensor.Name}' has rows of different widths ({sizes}); only the number of rows (the vocabulary size) may differ.");
            return;
        }
        // A cut reads the stored rows, which would leave out what an adapter changes in them.
        var lora = inputs.Where(m => m.Entry.LoraPath is not null).Select(m => m.Entry.Reference).ToList();
        if (lora.Count > 0)
        {
            problems.Add($"tensor '{tensor.Name}' has different numbers of rows ({sizes}); cutting them with a LoRA adapter on {string.Join(", ", lora.Select(r => $"'{r}'"))} is not supported yet: give 'tokenizer_source' to map the vocabularies.");
            return;
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
                    problems.Add($"tensor '{tensor.Name}': {string.Join(", ", fewer.Select(m => $"'{m.Entry.Reference}' has {m.Shape[0]} rows"))}, fewer than {role}'s {shape[0]}; " +
                        $"{method.Name} cuts each model to the base's rows and cannot extend one (mergekit fails on it too): give 'tokenizer_source' to map the vocabularies.");
                    return;
                }
                rows[tensor.Name] = shape[0];
                warnings.Add($"tensor '{tensor.Name}': {method.Name} takes the first {shape[0]} rows of each model, {role}'s number ({sizes}), as mergekit does without a tokenizer setting; " +
                    $"the tokens from id {shape[0]} up of {string.Join(", ", inputs.Where(m => m.Shape[0] > shape[0]).Select(m => $"'{m.Entry.Reference}'"))} have no row in the output.");
                break;
            }
            default:
                problems.Add($"tensor '{tensor.Name}' has a different number of rows (vocabulary size) in the models ({sizes}); {method.Name} does not merge embeddings of different sizes " +
                    $"(mergekit's {method.Name} fails on them; linear, slerp, nuslerp, model_stock and arcee_fusion take the rows every model has): give 'tokenizer_source' to map the vocabularies onto one.");
                break;
        }
    }

    /// <summary>
    /// The output's vocab_size when the vocabulary tensors written (<paramref name="written"/>: each one's stored rows,
    /// cut to <paramref name="rows"/>) leave the input embedding another number of rows than <paramref name="reference"/>'s,
    /// whose config.json the output takes; a problem when the vocabulary tensors would disagree.
    /// </summary>
    private static long? OutputVocabSize(string role, StoredModel reference, IReadOnlyList<(string Name, long Stored)> written, Dictionary<string, long> rows,
        List<string> problems, List<string> warnings)
    {
        var referenceEmbedding = reference.Tensors.Where(t => HuggingFaceNames.IsEmbedding(t.Name)).OrderBy(t => HuggingFaceNames.IsLmHead(t.Name)).FirstOrDefault();
        if (written.Count == 0 || referenceEmbedding is null) return null;
        var outputRows = written.Select(w => (w.Name, w.Stored, Rows: rows.TryGetValue(w.Name, out var kept) ? kept : w.Stored)).ToList();
        // Rows that disagree as the reference's own do (a padded LM head) are its layout; any other disagreement is refused.
        long? ReferenceRows(string name) => reference.Find(name)?.Info.Shape[0];
        if (outputRows.Select(w => w.Rows).Distinct().Count() > 1 && outputRows.Any(w => w.Rows != ReferenceRows(w.Name)))
        {
            problems.Add($"the output's vocabulary tensors would have different numbers of rows ({string.Join(", ", outputRows.Select(w => $"'{w.Name}' {w.Rows}"))}), which no config.json vocab_size fits: " +
                "give 'tokenizer_source' to map the vocabularies.");
            return null;
        }
        var embedding = outputRows.Where(w => !HuggingFaceNames.IsLmHead(w.Name)).Concat(outputRows).First();
        long before = referenceEmbedding.Info.Shape[0], after = embedding.Rows;
        if (after == before) return null;
        // mergekit leaves config.json as the reference's (it changes vocab_size only for a tokenizer setting), which
        // transformers cannot load against another number of rows; the output says the rows it holds instead.
        warnings.Add($"config.json's vocab_size is {after}, the rows written ({role}'s is {before}; mergekit keeps that, and transformers cannot load it against {after} rows); " +
            $"the tokenizer is {role}'s{(after < before ? $": its ids from {after} up have no row" : "")}.");
        return after;
    }
}
