using ChatVector.Core.Runtime;
using System.Diagnostics;
using System.Globalization;
using ChatVector.Core.Inference;
using ChatVector.Core.Models;
using ChatVector.Core.Tensors;

namespace ChatVector.Benchmarks;

/// <summary>
/// The forward pass on a model larger than its memory budget: perplexity of 256 tokens (wall time, peak RSS)
/// and greedy generation of 32 tokens (tokens per second), each in its own child process.
/// </summary>
internal static class InferenceBench
{
    private const int PerplexityTokens = 256, NewTokens = 32;

    public static int Run(string[] args)
    {
        var models = new List<(string Label, string Folder)>();
        if (args is ["--model", var given]) models.Add((Path.GetFileName(Path.GetFullPath(given)), Path.GetFullPath(given)));
        else
        {
            var sizes = args is ["--sizes", var list] ? list.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [1.0];
            var root = Path.Combine(Path.GetTempPath(), "chatvector-bench");
            foreach (var gb in sizes)
            {
                var dir = Path.Combine(root, gb.ToString("0.##", CultureInfo.InvariantCulture) + "GB");
                if (!File.Exists(Path.Combine(dir, "cp", "config.json"))) Child.Expect(Driver.RunChild("gen", dir, gb.ToString(CultureInfo.InvariantCulture)));
                var cp = Path.Combine(dir, "cp");
                // Trios generated before the config was complete get the full config (layers counted from the weights).
                TrioGenerator.WriteConfig(cp, ModelShape.H2048, StoredModel.Open(cp).Tensors.Count(t => t.Name.EndsWith(".mlp.down_proj.weight", StringComparison.Ordinal)));
                models.Add(($"{gb} GB", cp));
            }
        }
        Console.WriteLine($"ChatVector inference benchmark (streamed layer by layer, float32 on CPU): {Environment.ProcessorCount} cores");
        Console.WriteLine($"| model | layers | weights MB | perplexity {PerplexityTokens} tokens s | peak RSS MB | generate {NewTokens} tokens s | tokens/s | peak RSS MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (label, folder) in models)
        {
            var stored = StoredModel.Open(folder);
            long bytes = stored.Tensors.Sum(t => t.Info.ByteLength);
            int layers = LlamaConfig.Read(stored).Layers;
            Driver.RunChild("perplexity", folder); // warm the page cache
            var ppl = Child.Expect(Driver.RunChild("perplexity", folder));
            var gen = Child.Expect(Driver.RunChild("generate", folder));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {layers} | {bytes / 1e6:F1} | {ppl.Seconds:F2} | {ppl.PeakRssMb:F0} | {gen.Seconds:F2} | {NewTokens / gen.Seconds:F2} | {gen.PeakRssMb:F0} |"));
        }
        Console.WriteLine("Target: peak RSS <= 600 MB for the 1 GB model, flat across sizes.");
        return 0;
    }

    /// <summary>Mean NLL of 256 pseudo-random token ids.</summary>
    public static int Perplexity(string folder)
    {
        using var model = Open(folder, out var clock);
        var ids = Tokens(model.Config, PerplexityTokens);
        var result = model.Measure(ids);
        Console.Error.WriteLine($"nll {result.NegativeLogLikelihood:F4}");
        Child.Print(clock);
        return 0;
    }

    /// <summary>32 greedy tokens after an 8-token prompt (no eos: the budget ends it).</summary>
    public static int Generate(string folder)
    {
        using var model = Open(folder, out var clock);
        var generated = model.Generate(Tokens(model.Config, 8), NewTokens);
        Console.Error.WriteLine($"generated {generated.Count}");
        Child.Print(clock);
        return 0;
    }

    private static LanguageModel Open(string folder, out Stopwatch clock)
    {
        Child.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        clock = Stopwatch.StartNew();
        return LanguageModel.Open(StoredModel.Open(folder), ComputeContext.Cpu());
    }

    private static long[] Tokens(LlamaConfig config, int count)
    {
        var random = new Random(42);
        return Enumerable.Range(0, Math.Min(count, config.MaxPositionEmbeddings)).Select(_ => (long)random.Next(3, config.VocabSize)).ToArray();
    }
}
