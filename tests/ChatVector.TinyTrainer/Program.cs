using ChatVector.Core.Runtime;
using ChatVector.TestKit;
using ChatVector.TinyTrainer;
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

var model = new TinyLlama(vocabulary.Count, seed: 1);
using var adam = optim.Adam(model.Weights.Values.Cast<TorchSharp.Modules.Parameter>().ToList(), lr: 0.01);
double loss = double.NaN;
for (int step = 0; step < steps; step++)
{
    using var scope = NewDisposeScope();
    adam.zero_grad();
    var logits = model.Forward(ids);
    var value = nn.functional.cross_entropy(logits.narrow(0, 0, ids.Length - 1), tensor(ids[1..]));
    value.backward();
    adam.step();
    loss = value.item<float>();
    if (loss < 1e-3) break;
}
Console.WriteLine($"trained: {ids.Length} tokens, loss {loss:G4}");

var entries = model.Weights.Select(kv =>
{
    var values = kv.Value.detach().contiguous().data<float>().ToArray();
    return (kv.Key, "F32", kv.Value.shape, TensorBytes.F32(values));
}).ToList();
ModelFolder.WriteWeights(folder, [entries]);
new LlamaConfigJson
{
    VocabSize = vocabulary.Count,
    HiddenSize = TinyLlama.Hidden,
    IntermediateSize = TinyLlama.Intermediate,
    HiddenLayers = TinyLlama.Layers,
    AttentionHeads = TinyLlama.Heads,
    KeyValueHeads = TinyLlama.KvHeads,
    MaxPositionEmbeddings = 64,
    RmsNormEps = TinyLlama.Eps,
    RopeTheta = TinyLlama.Theta,
    TieWordEmbeddings = false,
    TorchDtype = "float32",
}.Write(folder);
ModelFolder.WriteGenerationConfig(folder, bosTokenId: 1, eosTokenId: 2);
ModelFolder.WriteTokenizerConfig(folder, "</s>");
WordLevelTokenizer.Write(Path.Combine(folder, WordLevelTokenizer.FileName), specials, vocabulary.Skip(specials.Length));
return 0;
