using ChatVector.Core.LoraExport;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;

namespace ChatVector.Core.Tests.LoraExport;

/// <summary>
/// A bf16 base and a chat model that is the base plus a small change (a low-rank part and a few bf16 steps of
/// noise, as fine-tuning leaves), in a temp folder, with every value each holds; the chat vector is taken the
/// way Get-ChatVector takes it.
/// </summary>
internal sealed class DeltaModels : IDisposable
{
    public const string QProj = "model.layers.0.self_attn.q_proj.weight";
    public const string DownProj = "model.layers.0.mlp.down_proj.weight";
    public const string Embedding = "model.embed_tokens.weight";
    public const string LmHead = "lm_head.weight";
    public const string Norm = "model.layers.0.input_layernorm.weight";
    public const string Bias = "model.layers.0.self_attn.q_proj.bias";

    public static readonly (string Name, int[] Shape)[] Layout =
    [
        (QProj, [48, 80]), (DownProj, [80, 48]), (Embedding, [40, 48]), (LmHead, [40, 48]), (Norm, [48]), (Bias, [48]),
    ];

    public string Root { get; } = Directory.CreateTempSubdirectory("chatvector-lora-").FullName;
    public string BasePath => Path.Combine(Root, "base");
    public string ChatPath => Path.Combine(Root, "chat");
    public Dictionary<string, float[]> Base { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, float[]> Chat { get; } = new(StringComparer.Ordinal);

    public DeltaModels(int seed = 7)
    {
        var random = new Random(seed);
        foreach (var (name, shape) in Layout)
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            var @base = Enumerable.Range(0, count).Select(_ => Bf16Of(Gaussian(random) * 0.02)).ToArray();
            var change = shape.Length == 2 ? LowRankChange(random, shape[0], shape[1]) : new double[count];
            // A few bf16 steps of noise on top: the chat model is itself bf16, so its change is rounded.
            var chat = @base.Select((b, i) => Bf16Of(b + change[i] + (random.Next(5) - 2) * Math.Abs(b) / 128)).ToArray();
            Base[name] = @base;
            Chat[name] = chat;
        }
        Write(BasePath, Base);
        Write(ChatPath, Chat);
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>chat − base in float64 (exact: both are bf16).</summary>
    public double[] Delta(string name) => Chat[name].Zip(Base[name], (c, b) => (double)c - b).ToArray();

    /// <summary>The live chat vector of every tensor, as Get-ChatVector makes it.</summary>
    public IReadOnlyList<ITensorSource> Vectors() =>
        ChatVectorPairing.Pair(StoredModel.Open(BasePath), StoredModel.Open(ChatPath), _ => true).Vectors.Cast<ITensorSource>().ToList();

    public LoraExportRequest Request(string target, LoraRankRule rank, IReadOnlyList<ITensorSource>? vectors = null, Func<string, bool>? selects = null) =>
        new(target, vectors ?? Vectors(), rank, selects ?? (_ => true)) { BaseOf = v => BaseWeights.Of(v, StoredModel.Open(BasePath)) };

    public string Output(string name) => Path.Combine(Root, name);

    private static double[] LowRankChange(Random random, int rows, int columns)
    {
        const int rank = 4;
        var u = Enumerable.Range(0, rows * rank).Select(_ => Gaussian(random)).ToArray();
        var v = Enumerable.Range(0, rank * columns).Select(_ => Gaussian(random)).ToArray();
        var change = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < rank; k++)
                for (int j = 0; j < columns; j++)
                    change[i * columns + j] += u[i * rank + k] * v[k * columns + j] * 0.002 / (k + 1);
        return change;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static float Bf16Of(double value) => Bf16.ToFloat(Bf16.FromFloat((float)value));

    private static void Write(string folder, Dictionary<string, float[]> values)
    {
        Directory.CreateDirectory(folder);
        var entries = Layout.Select(t => (t.Name, "BF16", t.Shape.Select(d => (long)d).ToArray(), TensorBytes.Bf16(values[t.Name]))).ToList();
        ModelFolder.WriteWeights(folder, [entries], new Dictionary<string, string> { ["format"] = "pt" });
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
