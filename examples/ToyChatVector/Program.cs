using System.Diagnostics;
using System.Text.Json;
using ChatVector.Core.Runtime;
using ChatVector.TestKit;
using ChatVector.TestKit.Training;
using ToyChatVector;
using static TorchSharp.torch;

// The toy Chat Vector experiment's training side. Verbs:
//   train --out DIR [--seed 1] [--size full|ci]     the data and the four models (base, chat, cp, cp-ft) as HF folders
//         [--scale F] [--task subject|copy] [--repeat N]  quick trials: steps times F; the task; 1 sentence in N repeated
//   eval  --model DIR --data DIR                    its own greedy generation + scoring + perplexity (JSON)
//   score --data DIR --generated FILE               judges generated ids (one line of ids per prompt) (JSON)
//   show  --model DIR --prompt TEXT                 one greedy answer, decoded
//   chart --results FILE --out PNG [--title T]      the sweep chart
return Cli.Run(args);

internal static class Cli
{
    public static int Run(string[] args)
    {
        try
        {
            var options = Options(args.Skip(1));
            switch (args.FirstOrDefault())
            {
                case "train": Train(options); return 0;
                case "eval": LoadTorch(); Print(Evaluator.Evaluate(options["model"], options["data"], new ToyVocabulary())); return 0;
                case "show": LoadTorch(); Show(options); return 0;
                case "score": Score(options); return 0;
                case "chart": SweepChart.Draw(options["results"], options["out"], options.GetValueOrDefault("title", "Chat vector on the toy languages")); return 0;
                default:
                    Console.Error.WriteLine("usage: ToyChatVector train|eval|score|chart [--option value]... (see Program.cs)");
                    return 2;
            }
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or InvalidDataException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"ToyChatVector: {e.Message}");
            return 1;
        }
    }

    private static Dictionary<string, string> Options(IEnumerable<string> args)
    {
        var list = args.ToList();
        var options = new Dictionary<string, string>();
        for (int i = 0; i + 1 < list.Count; i += 2)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Expected --name value, got '{list[i]}'.");
            options[list[i][2..]] = list[i + 1];
        }
        return options;
    }

    /// <summary>The module's patched libtorch (module/bin/deps, laid out by building the module) unless
    /// CHATVECTOR_NATIVE_DIR says otherwise: TorchSharp's own copy needs a newer libstdc++ than many systems have.
    /// Its CPU kernels are pinned to their portable level first, so a seed trains the same bytes on any x86-64 CPU
    /// (libtorch otherwise picks AVX2 or AVX-512 code at run time, and the models differ in every tensor).</summary>
    private static void LoadTorch()
    {
        ReproducibleKernels.Pin();
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TorchRuntime.NativeDirEnvVar)))
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var deps = Path.Combine(dir.FullName, "module", "bin", "deps");
                if (Directory.Exists(deps)) { Environment.SetEnvironmentVariable(TorchRuntime.NativeDirEnvVar, deps); break; }
            }
        TorchRuntime.EnsureLoaded();
    }

    private static void Train(Dictionary<string, string> options)
    {
        var output = Path.GetFullPath(options["out"]);
        int seed = int.Parse(options.GetValueOrDefault("seed", "1"));
        var size = ToySize.Parse(options.GetValueOrDefault("size", "full"))
            .Scaled(double.Parse(options.GetValueOrDefault("scale", "1"), System.Globalization.CultureInfo.InvariantCulture));
        ChatFormat.Task = options.GetValueOrDefault("task", ChatFormat.Task);
        ToyLanguage.RepeatEvery = int.Parse(options.GetValueOrDefault("repeat", "3"));
        LoadTorch();
        var vocabulary = new ToyVocabulary();
        var data = ToyData.Make(seed, size);
        data.Write(Path.Combine(output, "data"));
        ToyData.MakeReference(seed, size).Write(Path.Combine(output, "data-A"));
        var batches = new Batches(vocabulary);
        var config = ToyModelConfig.For(vocabulary.Count, size.Hidden, size.Intermediate, size.Layers, size.Heads, size.KvHeads);
        var log = Console.Out;
        log.WriteLine($"Training the toy models: size {size.Name}, seed {seed}, {vocabulary.Count} tokens, kernels pinned ({ReproducibleKernels.Describe()})");

        // Weights as transformers initialises them: normal(0, 0.02) from torch's generator, norms at one.
        manual_seed(seed);
        using var baseModel = TinyLlama.Initialise(config, std: 0.02f, LlamaWeightOrder.Checkpoint);
        var aText = new Random(ToyData.Stream(seed, 1));
        Timed(log, () => size.Base.Train(baseModel, _ => [batches.Text(ToyLanguage.A, aText, size.Base.BatchRows, size.Context)], log));
        Save(output, "base", baseModel, vocabulary);

        using var chat = baseModel.Clone();
        var aInstructions = new Random(ToyData.Stream(seed, 2));
        var aReplay = new Random(ToyData.Stream(seed, 8));
        Timed(log, () => size.Chat.Train(chat, _ => [
            batches.Instructions(Enumerable.Range(0, size.Chat.BatchRows).Select(_ => (IReadOnlyList<string>)ToyLanguage.A.Sentence(aInstructions)).ToList()),
            .. size.ChatTextRows > 0 ? [batches.Text(ToyLanguage.A, aReplay, size.ChatTextRows, size.Context)] : Array.Empty<Batch>()], log));
        Save(output, "chat", chat, vocabulary);

        using var cp = baseModel.Clone();
        var bText = new Random(ToyData.Stream(seed, 3));
        Timed(log, () => size.Cp.Train(cp, _ => [batches.Text(ToyLanguage.B, bText, size.Cp.BatchRows, size.Context)], log));
        Save(output, "cp", cp, vocabulary);

        using var cpFt = cp.Clone();
        var ftOrder = new Random(ToyData.Stream(seed, 7));
        Timed(log, () => size.CpFt.Train(cpFt, _ => [batches.Instructions(
            Enumerable.Range(0, size.CpFt.BatchRows).Select(_ => data.FtSentences[ftOrder.Next(data.FtSentences.Count)]).ToList())], log));
        Save(output, "cp-ft", cpFt, vocabulary);

        try
        {
            vocabulary.VerifyWithTokenizersLibrary(Path.Combine(output, "base", "tokenizer.json"),
                data.Prompts.Take(20).Select(ChatFormat.Example).Concat(data.Text.Take(3)).Append("unknownword " + ToyVocabulary.Eos));
            log.WriteLine("tokenizer.json: the Hugging Face tokenizers library (Tokenizers.DotNet) encodes and decodes the samples as the trainer does.");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            // Only the linux-x64 build of the tokenizers native library is served; elsewhere the check cannot run.
            log.WriteLine($"tokenizer.json: not checked with the tokenizers library, whose native part does not load here ({e.Message}).");
        }
    }

    private static void Timed(TextWriter log, Func<double> train)
    {
        var watch = Stopwatch.StartNew();
        train();
        log.WriteLine($"  ({watch.Elapsed.TotalSeconds:F1} s)");
    }

    private static void Save(string output, string name, TinyLlama model, ToyVocabulary vocabulary)
    {
        HfFolder.Write(Path.Combine(output, name), model, vocabulary);
        Console.Out.WriteLine($"Wrote {Path.Combine(output, name)}");
    }

    private static void Score(Dictionary<string, string> options)
    {
        var vocabulary = new ToyVocabulary();
        var (_, answers, _) = ToyData.Read(options["data"]);
        var generated = File.ReadAllLines(options["generated"])
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()).ToList();
        var (inFormat, exact) = Evaluator.Judge(generated, answers, vocabulary);
        Console.Out.WriteLine(JsonSerializer.Serialize(new { Prompts = answers.Length, InFormat = inFormat, Exact = exact }));
    }

    private static void Show(Dictionary<string, string> options)
    {
        var vocabulary = new ToyVocabulary();
        using var model = HfFolder.Read(options["model"]);
        Console.Out.WriteLine(vocabulary.Decode(Evaluator.Generate(model, vocabulary.Encode(options["prompt"]), vocabulary.EosId)));
    }

    private static void Print(Score score) => Console.Out.WriteLine(JsonSerializer.Serialize(score));
}
