using ChatVector.Core.Export;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using ChatVector.TestKit.Independent;
using Xunit;

namespace ChatVector.Core.Tests.Merge;

/// <summary>
/// Merges of tensors longer than a merge block (16K elements), so the block-at-a-time path covers whole and partial
/// blocks, against values computed here element by element: the plain add, and TIES (magnitude trim by a full sort of
/// the stated order, sign election by mass, normalization by the kept ratios), each rounded once to bf16. With the
/// inputs held in memory a chunk is merged a block at a time; read from the files, a chunk at a time: both are checked
/// (the budget is process-wide, hence the collection that runs alone).
/// </summary>
[Collection(IO.ResidentTensorsCollection.Name)]
public sealed class BlockedMergeTests : TempDirTest
{
    public static TheoryData<bool> Holding() => new() { true, false };

    /// <summary>Runs <paramref name="merge"/> with the inputs held (the default budget) or not (a budget of 0).</summary>
    private static T WithHolding<T>(bool hold, Func<T> merge)
    {
        long saved = Core.IO.ResidentTensors.BudgetBytes;
        if (!hold) Core.IO.ResidentTensors.BudgetBytes = 0;
        long copies = Core.IO.ResidentTensors.CopiesMade;
        try
        {
            var result = merge();
            Assert.Equal(hold, Core.IO.ResidentTensors.CopiesMade > copies);
            return result;
        }
        finally { Core.IO.ResidentTensors.BudgetBytes = saved; }
    }

    private const int Rows = 3, Columns = 13_001; // 39,003 elements: two whole blocks and a partial one
    private const int Count = Rows * Columns;

    /// <summary>Coarse bf16 values (a few dozen magnitudes), so the trim's threshold falls among many equal ones.</summary>
    private static float[] Coarse(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Count).Select(_ => Bf16.ToFloat(Bf16.FromFloat((random.Next(-24, 25)) / 64f))).ToArray();
    }

    private string WriteModel(string name, float[] values)
    {
        var path = Dir.File(name + ".safetensors");
        SafeTensorsWriter.Write(path, [("w", "BF16", new long[] { Rows, Columns }, TensorBytes.Bf16(values))]);
        return path;
    }

    private (float[] Base, float[] Chat, float[] Cp, StoredModel BaseModel, StoredModel ChatModel, StoredModel CpModel) Trio()
    {
        var (@base, chat, cp) = (Coarse(1), Coarse(2), Coarse(3));
        TestPaths.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        return (@base, chat, cp, StoredModel.Open(WriteModel("base", @base)), StoredModel.Open(WriteModel("chat", chat)), StoredModel.Open(WriteModel("cp", cp)));
    }

    private float[] Export(MergeRequest request)
    {
        var target = Dir.File("merged.safetensors");
        ModelExporter.Export(new ExportRequest(target, MergePlanner.Plan(request).Outputs, Core.Format.ByteSize.Parse("1GB"), Force: true), ComputeContext.Cpu());
        var bytes = new IndependentSafeTensorReader(target).Bytes("w").ToArray();
        return Enumerable.Range(0, Count).Select(i => Bf16.ToFloat(bytes.AsSpan(i * 2, 2))).ToArray();
    }

    [Fact]
    public void The_plain_add_reads_each_input_once_and_is_cp_plus_chat_minus_base_rounded_once()
    {
        var t = Trio();
        var vectors = ChatVectorPairing.Pair(t.BaseModel, t.ChatModel, _ => true).Vectors;
        long copies = Core.IO.ResidentTensors.CopiesMade;
        var merged = Export(new MergeRequest(t.CpModel, vectors.Select(v => new VectorInput(v, 1.0, v.Provenance)).ToList()));
        Assert.Equal(copies, Core.IO.ResidentTensors.CopiesMade); // nothing re-read, so nothing held: a chunk at a time

        var expected = Enumerable.Range(0, Count).Select(i => Bf16.ToFloat(Bf16.FromFloat(t.Cp[i] + (t.Chat[i] - t.Base[i])))).ToArray();
        Assert.Equal(expected, merged);
    }

    [Theory]
    [MemberData(nameof(Holding))]
    public void Ties_over_several_blocks_matches_a_full_sort_and_the_stated_rules(bool hold)
    {
        var t = Trio();
        var options = new SparsifyOptions(SparsifyMethod.Magnitude, 0.3, SparsifyOptions.DefaultGamma, SparsifyOptions.DefaultEpsilon, 0, Rescale: false);
        var vectors = new[] { t.ChatModel, t.CpModel }
            .SelectMany(other => ChatVectorPairing.Pair(t.BaseModel, other, _ => true).Vectors)
            .Select(v => new VectorInput(new SparsifiedTensor(v, options), 1.0, v.Provenance))
            .ToList();
        var merged = WithHolding(hold, () => Export(new MergeRequest(t.BaseModel, vectors, Mixing: new MixOptions(ConsensusMethod.Sum, Normalize: true))));

        var first = Trimmed(t.Chat, t.Base, 0.3);
        var second = Trimmed(t.Cp, t.Base, 0.3);
        var expected = new float[Count];
        for (int i = 0; i < Count; i++)
        {
            float total = 0f + first[i] + second[i];
            float sign = total >= 0 ? 1f : -1f;
            float mixed = 0f;
            double kept = 0;
            foreach (var w in new[] { first[i], second[i] })
                if (w != 0 && Math.Sign(w) == (int)sign)
                {
                    mixed += w;
                    kept += 1.0;
                }
            expected[i] = Bf16.ToFloat(Bf16.FromFloat(t.Base[i] + mixed / (float)(kept == 0 ? 1.0 : kept)));
        }
        Assert.Equal(expected, merged);
        Assert.Contains(expected, v => v != 0); // not a vacuous comparison
    }

    /// <summary>chat − base in float32 with all but the last ⌊density·n⌋ of the order (|v| ascending, then index) set to 0.</summary>
    private static float[] Trimmed(float[] chat, float[] @base, double density)
    {
        var v = chat.Zip(@base, (c, b) => c - b).ToArray();
        int keep = (int)Math.Floor(density * v.Length);
        var order = Enumerable.Range(0, v.Length).OrderBy(i => Math.Abs(v[i])).ThenBy(i => i).ToArray();
        var result = new float[v.Length];
        foreach (var i in order[^keep..]) result[i] = v[i];
        return result;
    }
}
