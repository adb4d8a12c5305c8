using ChatVector.Core.Export;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;

namespace ChatVector.Core.Tests;

/// <summary>A base/chat/cp trio in a temp folder, with the values each tensor holds.</summary>
public sealed class Trio : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("chatvector-trio-").FullName;
    public string BasePath => Path.Combine(Root, "base");
    public string ChatPath => Path.Combine(Root, "chat");
    public string CpPath => Path.Combine(Root, "cp");
    public Dictionary<string, float[]> Base { get; }
    public Dictionary<string, float[]> Chat { get; }
    public Dictionary<string, float[]> Cp { get; }
    public const string Template = "{% for m in messages %}<|user|>{{ m.content }}<|end|>{% endfor %}";
    public int CpVocab { get; }
    public int Vocab { get; }

    public Trio(bool tiedCp = false, int extraCpRows = 8)
    {
        Vocab = 40;
        CpVocab = Vocab + extraCpRows;
        Base = new LlamaModelBuilder { Seed = 1, Vocab = Vocab }.Write(BasePath);
        Chat = new LlamaModelBuilder { Seed = 2, Vocab = Vocab, ChatTemplate = Template, EosToken = "<|end|>" }.Write(ChatPath);
        Cp = new LlamaModelBuilder { Seed = 3, Vocab = CpVocab, Tied = tiedCp, Shards = 2 }.Write(CpPath);
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
    }

    public string Output(string name) => Path.Combine(Root, name);

    public ChatVectorPairing Pair(Func<string, bool>? include = null) =>
        ChatVectorPairing.Pair(StoredModel.Open(BasePath), StoredModel.Open(ChatPath), include ?? (_ => true));

    public MergePlan Plan(double ratio = 1.0, bool skipEmbedding = false, Dictionary<long, long>? specialTokens = null) =>
        MergePlanner.Plan(new MergeRequest(StoredModel.Open(CpPath),
            Pair().Vectors.Select(v => new VectorInput(v, ratio, v.Provenance)).ToList(), skipEmbedding, specialTokens));

    public static void Export(string target, IReadOnlyList<ITensorSource> tensors, string maxShard = "4KB", OutputSideFiles? sideFiles = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancel = default) =>
        ModelExporter.Export(new ExportRequest(target, tensors, Core.Format.ByteSize.Parse(maxShard), metadata, SideFiles: sideFiles), ComputeContext.Cpu(cancel));

    /// <summary>The expected bf16 of cp + ratio * (chat - base), computed here in float32 with one rounding.</summary>
    public static ushort Expected(float cp, float chat, float @base, double ratio) =>
        Bf16.FromFloat(cp + (float)ratio * (chat - @base));

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
