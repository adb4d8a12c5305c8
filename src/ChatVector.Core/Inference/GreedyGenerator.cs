using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.Core.Inference;

/// <summary>
/// Greedy decoding with a KV cache: the prompt in one pass, then one token per step, each the argmax of
/// the LM head (read in row chunks). Stops after an eos id (kept as the last id), at the token budget,
/// or at the model's position limit.
/// </summary>
public static class GreedyGenerator
{
    /// <param name="onToken">Called after each generated token with the count so far (progress).</param>
    public static IReadOnlyList<long> Generate(LlamaForward model, IReadOnlyList<long> prompt, int maxNewTokens, IReadOnlySet<long> eosIds, int? contextLength = null, Action<int>? onToken = null)
    {
        InputLimits.Check(model.Config, prompt.Count, contextLength, model.Weights.ModelPath);
        if (prompt.Count == 0)
            throw new InferenceException(InferenceProblem.InputTooShort, "The prompt has no tokens; generation needs at least one.");
        int limit = InputLimits.Limit(model.Config, contextLength);
        var generated = new List<long>();
        using var cache = new KvCache(model.Config.Layers, Math.Min(limit, prompt.Count + (long)maxNewTokens));
        var input = prompt;
        while (generated.Count < maxNewTokens && cache.Length + input.Count <= limit)
        {
            long next = NextToken(model, input, cache);
            generated.Add(next);
            onToken?.Invoke(generated.Count);
            if (eosIds.Contains(next)) break;
            input = [next];
        }
        return generated;
    }

    private static long NextToken(LlamaForward model, IReadOnlyList<long> input, KvCache cache)
    {
        using var scope = NewDisposeScope();
        var hidden = model.Hidden(input, cache);
        var last = hidden.narrow(0, input.Count - 1, 1);
        long best = -1;
        float bestValue = float.NegativeInfinity;
        model.ForEachLogitChunk(last, (logits, first) =>
        {
            // Ties go to the lowest id, as argmax over the whole row would.
            var (value, index) = logits[0].max(0);
            float v = value.item<float>();
            if (best < 0 || v > bestValue)
            {
                bestValue = v;
                best = first + index.item<long>();
            }
        });
        return best;
    }
}
