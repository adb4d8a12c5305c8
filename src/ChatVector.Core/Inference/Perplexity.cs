using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.Core.Inference;

/// <summary>How well a model predicts a token sequence: the T−1 next-token predictions, scored.</summary>
public sealed record PerplexityResult(int Tokens, double NegativeLogLikelihood)
{
    public double Perplexity => Math.Exp(NegativeLogLikelihood);
}

/// <summary>
/// Mean next-token negative log-likelihood. The log-softmax runs over LM head row chunks with a running
/// log-sum-exp, so no (T, vocab) logits matrix is ever held.
/// </summary>
public static class Perplexity
{
    public static PerplexityResult Measure(LlamaForward model, IReadOnlyList<long> ids, int? contextLength = null)
    {
        InputLimits.Check(model.Config, ids.Count, contextLength, model.Weights.ModelPath);
        if (ids.Count < 2)
            throw new InferenceException(InferenceProblem.InputTooShort, $"The input has {ids.Count} token(s); at least 2 are needed to score a next-token prediction.");
        using var scope = NewDisposeScope();
        using var all = model.Hidden(ids);
        var hidden = all.narrow(0, 0, ids.Count - 1);
        var device = hidden.device;
        var targets = tensor(ids.Skip(1).ToArray(), device: device);
        var runningMax = full(ids.Count - 1, double.NegativeInfinity, dtype: ScalarType.Float32, device: device);
        var runningSum = zeros(ids.Count - 1, dtype: ScalarType.Float32, device: device);
        var targetLogit = zeros(ids.Count - 1, dtype: ScalarType.Float32, device: device);
        model.ForEachLogitChunk(hidden, (logits, first) =>
        {
            // Running log-sum-exp: rescale the old sum to the new maximum before adding this chunk.
            var chunkMax = logits.amax([1L]);
            var newMax = maximum(runningMax, chunkMax);
            var sum = runningSum * exp(runningMax - newMax) + exp(logits - newMax.unsqueeze(1)).sum(1);
            runningSum.copy_(sum);
            runningMax.copy_(newMax);
            var inChunk = (targets >= first).logical_and(targets < first + logits.shape[1]);
            var local = (targets - first).clamp(0, logits.shape[1] - 1);
            var picked = logits.gather(1, local.unsqueeze(1)).squeeze(1);
            targetLogit.copy_(where(inChunk, picked, targetLogit));
        });
        var nll = (runningMax + runningSum.log() - targetLogit).to(ScalarType.Float64).mean().item<double>();
        return new PerplexityResult(ids.Count, nll);
    }
}
