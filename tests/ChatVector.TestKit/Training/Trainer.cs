using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.TestKit.Training;

/// <summary>
/// One training run's settings: its name (for the log), steps, peak learning rate and schedule, and an optional
/// loss below which it stops early.
/// </summary>
public sealed record TrainingRun(string Name, int Steps, double LearningRate)
{
    /// <summary>Linear warm-up over the first 5% of the steps, then cosine decay to 10% of the peak; else constant.</summary>
    public bool WarmUpCosine { get; init; }
    /// <summary>Stop after the first step whose loss is below this.</summary>
    public double? StopBelowLoss { get; init; }
    /// <summary>Where to write the smoothed loss five times over the run (none when null).</summary>
    public TextWriter? Log { get; init; }

    /// <summary>The learning rate of step <paramref name="step"/> (from 0).</summary>
    public double LearningRateAt(int step)
    {
        if (!WarmUpCosine) return LearningRate;
        int warmup = Math.Max(1, Steps / 20);
        return step < warmup
            ? LearningRate * (step + 1) / warmup
            : LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, Steps - warmup))));
    }
}

/// <summary>What a run ended with: the steps taken, the last step's loss, and the loss smoothed over the steps (EMA 0.95).</summary>
public sealed record TrainingResult(int Steps, double LastLoss, double SmoothedLoss);

/// <summary>
/// The tiny trainers' loop: AdamW without weight decay (so rows of tokens a run never sees stay exactly as they
/// were) on a loss the caller computes for each step. Every tensor of a step is disposed after it.
/// </summary>
public static class Trainer
{
    public static TrainingResult Train(TinyLlama model, TrainingRun run, Func<int, Tensor> lossAt)
    {
        var parameters = model.Weights.Values.Cast<TorchSharp.Modules.Parameter>().ToList();
        using var optimizer = optim.AdamW(parameters, lr: run.LearningRate, weight_decay: 0);
        double last = double.NaN, recent = double.NaN;
        int step = 0;
        while (step < run.Steps)
        {
            double lr = run.LearningRateAt(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            using var scope = NewDisposeScope();
            var loss = lossAt(step);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            recent = double.IsNaN(recent) ? last : 0.95 * recent + 0.05 * last;
            step++;
            if (run.Log is not null && step % Math.Max(1, run.Steps / 5) == 0)
                run.Log.WriteLine($"  {run.Name,-6} step {step,5}/{run.Steps}  loss {recent:F3}");
            if (last < run.StopBelowLoss) break;
        }
        return new TrainingResult(step, last, recent);
    }
}
