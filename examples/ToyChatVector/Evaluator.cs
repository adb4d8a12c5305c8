using ChatVector.TestKit.Training;
using static TorchSharp.torch;

namespace ToyChatVector;

/// <summary>In-format and exact rates over prompts, and perplexity over text.</summary>
public sealed record Score(int Prompts, double InFormat, double Exact, double NegativeLogLikelihood, double Perplexity);

/// <summary>
/// The training side's own evaluation of a model folder: greedy generation (the whole sequence recomputed each
/// step; tiny models need no cache) and perplexity. A cross-check of the module's forward pass, and the
/// fallback where Invoke-/Measure-ChatVectorModel are not there.
/// </summary>
public static class Evaluator
{
    public const int MaxNewTokens = 24;

    public static int[] Generate(TinyLlama model, int[] prompt, int eosId, int maxNewTokens = MaxNewTokens)
    {
        using var noGrad = no_grad();
        var ids = prompt.Select(i => (long)i).ToList();
        var generated = new List<int>();
        while (generated.Count < maxNewTokens)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(ids.ToArray(), [1, ids.Count]));
            int next = (int)logits[0, -1].argmax().item<long>();
            generated.Add(next);
            ids.Add(next);
            if (next == eosId) break;
        }
        return generated.ToArray();
    }

    /// <summary>Mean next-token NLL over all lines (each line's T-1 predictions, weighted by count).</summary>
    public static double NegativeLogLikelihood(TinyLlama model, IEnumerable<int[]> lines)
    {
        using var noGrad = no_grad();
        double total = 0;
        long count = 0;
        foreach (var line in lines)
        {
            using var scope = NewDisposeScope();
            var ids = tensor(line.Select(i => (long)i).ToArray(), [1, line.Length]);
            var logits = model.Forward(ids)[0, ..^1];
            var nll = nn.functional.cross_entropy(logits, ids[0, 1..], reduction: nn.Reduction.Sum);
            total += nll.item<float>();
            count += line.Length - 1;
        }
        return total / count;
    }

    /// <summary>Judges one generated-ids line per prompt against answers.txt.</summary>
    public static (double InFormat, double Exact) Judge(IReadOnlyList<int[]> generated, IReadOnlyList<string> answers, ToyVocabulary vocabulary)
    {
        if (generated.Count != answers.Count)
            throw new InvalidDataException($"{generated.Count} generations for {answers.Count} prompts.");
        int inFormat = 0, exact = 0;
        for (int i = 0; i < answers.Count; i++)
        {
            var (ok, right) = ChatFormat.Judge(generated[i], vocabulary.Encode(answers[i]), vocabulary);
            if (ok) inFormat++;
            if (right) exact++;
        }
        return (100.0 * inFormat / answers.Count, 100.0 * exact / answers.Count);
    }

    public static Score Evaluate(string modelFolder, string dataFolder, ToyVocabulary vocabulary)
    {
        var (prompts, answers, text) = ToyData.Read(dataFolder);
        using var model = HfFolder.Read(modelFolder);
        var generated = prompts.Select(p => Generate(model, vocabulary.Encode(p), vocabulary.EosId)).ToList();
        var (inFormat, exact) = Judge(generated, answers, vocabulary);
        double nll = NegativeLogLikelihood(model, text.Select(vocabulary.Encode));
        return new Score(prompts.Length, inFormat, exact, nll, Math.Exp(nll));
    }
}
