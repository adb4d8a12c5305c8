using TorchSharp;
using static TorchSharp.torch;

namespace ToyChatVector;

/// <summary>One training phase's settings: steps, peak learning rate (linear warm-up, cosine decay to 10%).</summary>
public sealed record Phase(string Name, int Steps, double LearningRate, int BatchRows);

/// <summary>AdamW (no weight decay, so rows of tokens a phase never sees stay exactly as they were) on next-token loss.</summary>
public static class Trainer
{
    /// <summary>Each step takes the summed mean loss of the batches <paramref name="nextBatches"/> gives (instructions,
    /// and for chat some running text as well, so the chat model keeps its language modelling as real ones do).</summary>
    public static double Train(ToyLlama model, Phase phase, Func<int, IEnumerable<Batch>> nextBatches, TextWriter log)
    {
        var parameters = model.Weights.Values.Cast<TorchSharp.Modules.Parameter>().ToList();
        using var optimizer = optim.AdamW(parameters, lr: phase.LearningRate, weight_decay: 0);
        int warmup = Math.Max(1, phase.Steps / 20);
        double recent = double.NaN;
        for (int step = 0; step < phase.Steps; step++)
        {
            double lr = step < warmup
                ? phase.LearningRate * (step + 1) / warmup
                : phase.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, phase.Steps - warmup))));
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            using var scope = NewDisposeScope();
            Tensor? loss = null;
            foreach (var batch in nextBatches(step))
            {
                var (inputs, targets) = Batches.ToTensors(batch);
                var logits = model.Forward(inputs);
                var part = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1), ignore_index: Batch.Ignore);
                loss = loss is null ? part : loss + part;
            }
            if (loss is null) throw new InvalidOperationException($"Phase {phase.Name} gave no batch at step {step}.");
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            double value = loss.item<float>();
            recent = double.IsNaN(recent) ? value : 0.95 * recent + 0.05 * value;
            if ((step + 1) % Math.Max(1, phase.Steps / 5) == 0)
                log.WriteLine($"  {phase.Name,-6} step {step + 1,5}/{phase.Steps}  loss {recent:F3}");
        }
        return recent;
    }
}
