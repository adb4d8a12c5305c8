using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Streaming;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tests.Sparsify;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using TorchSharp;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

/// <summary>
/// The config methods exported from stored bf16 models as a config merge builds them (the base's tensor, and each model
/// minus that base as a chat vector), whose chunks read the inputs as float32 straight into memory, read each vector over
/// the base's values already read, and round from a block at a time: against the same method over in-memory inputs
/// read through libtorch, whose chunk is rounded by libtorch. Exported with two chunkings and thread counts, with the
/// inputs held in memory (a block at a time) and read from the files (a chunk at a time): the same bytes each way.
/// </summary>
[Collection(IO.ResidentTensorsCollection.Name)]
public sealed class MethodTensorReadsTests : TempDirTest
{
    private const int Rows = 3, Columns = 13_001; // 39,003 elements: a whole block of 32K and a partial one
    private const int Count = Rows * Columns;

    public static TheoryData<string, bool> Methods()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in new[] { "slerp", "nuslerp", "multislerp", "karcher", "model_stock", "nearswap", "arcee_fusion", "sce", "ram" })
            foreach (var hold in new[] { true, false })
                data.Add(name, hold);
        return data;
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void A_method_over_stored_models_gives_the_bytes_of_its_chunks_read_through_libtorch(string name, bool hold)
    {
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        var method = MethodRegistry.Find(name);
        int modelCount = method.ModelCount ?? 2;
        var random = new Random(11);
        var baseValues = Enumerable.Range(0, Count).Select(_ => Bf16.ToFloat(Bf16.FromFloat((float)(random.NextDouble() - 0.5) * 0.1f))).ToArray();
        // Each model a few bf16 steps from the base, as a fine-tune is; the second one's steps half as likely.
        var models = Enumerable.Range(0, modelCount).Select(m => baseValues.Select(b =>
            Bf16.ToFloat(Bf16.FromFloat(b * (1 + (random.Next(-2, 3) / 128f) * (m == 1 && random.Next(2) == 0 ? 0 : 1))))).ToArray()).ToArray();
        var (merge, perModel) = method.CheckParameters(Parameters(name), Enumerable.Range(0, modelCount)
            .Select(m => (IReadOnlyDictionary<string, object>?)(name is "nuslerp" or "multislerp" ? new Dictionary<string, object> { ["weight"] = m == 0 ? 0.4 : 0.6 } : null)).ToList());

        // Through libtorch: in-memory inputs (model − base in float32, as a chat vector is), the chunk's values rounded by libtorch.
        var viaLibtorch = method.Merge(new MethodInputs(new ArraySource("w", baseValues, [Rows, Columns]),
            models.Select((x, m) => new MethodVector(new ArraySource("w", x.Select((v, i) => v - baseValues[i]).ToArray(), [Rows, Columns]), perModel[m])).ToList(),
            merge, DType.BF16));
        var expected = ReadBf16(viaLibtorch);

        var storedBase = StoredModel.Open(Write("base", baseValues));
        var storedModels = models.Select((x, m) => StoredModel.Open(Write($"model{m}", x))).ToArray();
        var hashes = new HashSet<string>();
        foreach (var (chunkBytes, threads) in new[] { (4096, 1), (1 << 20, 2) })
        {
            // A vector's base is opened apart from the merge's base (as a pairing opens it): the same stored tensor all the same.
            var inputs = new MethodInputs(new StoredTensorSource(storedBase.Tensors.Single()),
                storedModels.Select((model, m) => new MethodVector(new ChatVectorTensor(new StoredTensorSource(model.Tensors.Single()),
                    new StoredTensorSource(StoredModel.Open(storedBase.Path).Tensors.Single()), VectorProvenance.FromModels(storedBase, model)), perModel[m])).ToList(),
                merge, DType.BF16);
            // Only a method with a statistics pass reads its inputs twice, and so holds them; the others read each once.
            bool rereads = ((ElementwiseMethod)method).StatisticCount(inputs) > 0;
            var bytes = WithHolding(hold, rereads, () => Export(method.Merge(inputs), chunkBytes, threads));
            hashes.Add(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)));
            Assert.Equal(expected, Enumerable.Range(0, Count).Select(i => Bf16.ToFloat(bytes.AsSpan(i * 2, 2))).ToArray());
        }
        Assert.Single(hashes);
    }

    private static Dictionary<string, object>? Parameters(string name) => name switch
    {
        "slerp" => new() { ["t"] = 0.3 },
        "nearswap" => new() { ["t"] = 0.0005 },
        "sce" => new() { ["select_topk"] = 0.3 },
        _ => null,
    };

    private string Write(string name, float[] values)
    {
        var path = Dir.File(name + ".safetensors");
        SafeTensorsWriter.Write(path, [("w", "BF16", new long[] { Rows, Columns }, TensorBytes.Bf16(values))]);
        return path;
    }

    private byte[] Export(ITensorSource output, int chunkBytes, int threads)
    {
        var target = Dir.File("merged.safetensors");
        ModelExporter.Export(new ExportRequest(target, [output], Force: true, Streaming: new StreamingOptions(chunkBytes, threads)), ComputeContext.Cpu());
        return new IndependentSafeTensorReader(target).Bytes("w").ToArray();
    }

    /// <summary>Every value of a BF16 source, read a chunk at a time (its libtorch path), widened to float32.</summary>
    private static float[] ReadBf16(ITensorSource source)
    {
        var all = new List<float>();
        for (long start = 0; start < source.ElementCount; start += 10_000)
        {
            using var chunk = source.ReadChunk(start, Math.Min(10_000, source.ElementCount - start), ComputeContext.Cpu());
            Assert.Equal(torch.ScalarType.BFloat16, chunk.dtype);
            using var widened = chunk.to(torch.ScalarType.Float32);
            all.AddRange(widened.data<float>().ToArray());
        }
        return all.ToArray();
    }

    /// <summary>Runs <paramref name="export"/> with the inputs held in memory (the default budget) or not (a budget of 0).</summary>
    private static T WithHolding<T>(bool hold, bool rereads, Func<T> export)
    {
        long saved = Core.IO.ResidentTensors.BudgetBytes;
        if (!hold) Core.IO.ResidentTensors.BudgetBytes = 0;
        long copies = Core.IO.ResidentTensors.CopiesMade;
        try
        {
            var result = export();
            Assert.Equal(hold && rereads, Core.IO.ResidentTensors.CopiesMade > copies);
            return result;
        }
        finally { Core.IO.ResidentTensors.BudgetBytes = saved; }
    }
}
