using ChatVector.Core.Runtime;
using ChatVector.TestKit;
using ChatVector.TestKit.Training;
using TorchSharp;
using static TorchSharp.torch;

// Usage: ChatVector.TinyTrainer <output folder> <text> [steps]
// Trains a tiny LLaMA on the text's words followed by </s> until it has memorised them, then writes
// config.json, generation_config.json (eos 2), tokenizer.json (word level), tokenizer_config.json and model.safetensors (F32).
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: ChatVector.TinyTrainer <output folder> <text> [steps]");
    return 2;
}
var (folder, text) = (args[0], args[1]);
int steps = args.Length > 2 ? int.Parse(args[2]) : 400;

if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TorchRuntime.NativeDirEnvVar)))
{
    var repo = new DirectoryInfo(AppContext.BaseDirectory);
    while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "ChatVector.PowerShell.sln"))) repo = repo.Parent;
    if (repo is not null) Environment.SetEnvironmentVariable(TorchRuntime.NativeDirEnvVar, Path.Combine(repo.FullName, "module", "bin", "deps"));
}
// The same model bytes on any x86-64 CPU: libtorch's kernels pinned to their portable level before it loads.
ReproducibleKernels.Pin();
TorchRuntime.EnsureLoaded();
torch.manual_seed(1);

string[] specials = ["<unk>", "<s>", "</s>"];
var words = WordLevelTokenizer.Words(text).ToList();
var vocabulary = specials.Concat(words.Distinct(StringComparer.Ordinal)).ToList();
var ids = words.Select(w => (long)vocabulary.IndexOf(w)).Append(2L).ToArray();

// Hidden 32, 4 heads of 8 over 2 kv heads, 2 layers; its weights drawn from its own generator in forward order.
var config = new TinyLlamaConfig(new LlamaDimensions(vocabulary.Count, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KvHeads: 2),
    RmsNormEps: 1e-6, RopeTheta: 10000, RotaryTables.Float32);
using var model = TinyLlama.Initialise(config, std: 0.1, LlamaWeightOrder.Forward, new Generator(1));
var input = tensor(ids, [1, ids.Length]);
var targets = tensor(ids[1..]);
var result = Trainer.Train(model, new TrainingRun("memorise", steps, LearningRate: 0.01) { StopBelowLoss = 1e-3 },
    _ => nn.functional.cross_entropy(model.Forward(input)[0].narrow(0, 0, ids.Length - 1), targets));
Console.WriteLine($"trained: {ids.Length} tokens, loss {result.LastLoss:G4}");

ModelFolder.WriteWeights(folder, [model.F32Entries()]);
(config.ConfigJson() with { MaxPositionEmbeddings = 64, TorchDtype = "float32" }).Write(folder);
ModelFolder.WriteGenerationConfig(folder, bosTokenId: 1, eosTokenId: 2);
ModelFolder.WriteTokenizerConfig(folder, "</s>");
WordLevelTokenizer.Write(Path.Combine(folder, WordLevelTokenizer.FileName), specials, vocabulary.Skip(specials.Length));
return 0;
