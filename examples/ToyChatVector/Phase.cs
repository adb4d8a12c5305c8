using ChatVector.TestKit.Training;
using static TorchSharp.torch;

namespace ToyChatVector;

/// <summary>One training phase's settings: steps, peak learning rate (linear warm-up, cosine decay to 10%), rows per batch.</summary>
public sealed record Phase(string Name, int Steps, double LearningRate, int BatchRows)
{
    /// <summary>Trains <paramref name="model"/> through this phase with the test kit's trainer (AdamW without weight decay,
    /// so rows of tokens a phase never sees stay exactly as they were) on next-token loss. Each step takes the summed
    /// mean loss of the batches <paramref name="nextBatches"/> gives (instructions, and for chat some running text as
    /// well, so the chat model keeps its language modelling as real ones do). Returns the smoothed loss.</summary>
    public double Train(TinyLlama model, Func<int, IEnumerable<Batch>> nextBatches, TextWriter log)
    {
        var run = new TrainingRun(Name, Steps, LearningRate) { WarmUpCosine = true, Log = log };
        return Trainer.Train(model, run, step =>
        {
            Tensor? loss = null;
            foreach (var batch in nextBatches(step))
            {
                var (inputs, targets) = Batches.ToTensors(batch);
                var logits = model.Forward(inputs);
                var part = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1), ignore_index: Batch.Ignore);
                loss = loss is null ? part : loss + part;
            }
            return loss ?? throw new InvalidOperationException($"Phase {Name} gave no batch at step {step}.");
        }).SmoothedLoss;
    }
}
