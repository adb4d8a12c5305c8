using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Methods;
using ChatVector.Core.Models;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Streaming;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tests.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Methods;

public class MethodLayerTests
{
    private static readonly long[] Shape = [60, 50];

    static MethodLayerTests() => _ = SparsifyFixture.Bf16Like(1, 0); // loads libtorch (the fixture's static constructor)

    [Fact]
    public void Every_method_of_the_task_arithmetic_family_in_the_readme_table_is_registered_with_mergekits_defaults()
    {
        // The README's mergekit table: (method, sparsification, consensus, normalize, rescale) as mergekit defines them.
        (string Name, string? Rule, string Consensus, bool Normalize, bool? Rescale)[] table =
        [
            ("task_arithmetic", null, "None", false, null),
            ("linear", null, "None", true, null),
            ("ties", "Magnitude", "Sum", true, false),
            ("dare_linear", "Random", "None", false, true),
            ("dare_ties", "Random", "Sum", false, true),
            ("breadcrumbs", "Breadcrumbs", "None", false, false),
            ("breadcrumbs_ties", "Breadcrumbs", "Sum", false, false),
            ("della", "Della", "Sum", true, true),
            ("della_linear", "Della", "None", false, true),
        ];
        foreach (var row in table)
        {
            var method = MethodRegistry.Find(row.Name);
            var (merge, perModel) = method.CheckParameters(null, [new Dictionary<string, object> { ["weight"] = 0.5 }]);
            Assert.Equal(row.Normalize, merge.Boolean("normalize"));
            if (row.Rescale is { } rescale) Assert.Equal(rescale, merge.Boolean("rescale"));
            else Assert.DoesNotContain(method.Parameters, p => p.Name is "rescale" or "density");
            if (row.Rule is not null) Assert.Equal(1.0, perModel[0].Number("density")); // mergekit: density 1, no trim
            if (row.Rule == "Breadcrumbs") Assert.Equal(0.01, perModel[0].Number("gamma"));
            if (row.Rule == "Della") Assert.Equal(0.15, perModel[0].Number("epsilon"));

            var merged = (MergedTensor)method.Merge(Inputs(method, merge, perModel));
            Assert.Equal(row.Consensus, merged.Mixing.Consensus.ToString());
            Assert.Equal(row.Normalize, merged.Mixing.Normalize);
            var vector = merged.Terms[0].Vector;
            if (row.Rule is null) Assert.IsNotType<SparsifiedTensor>(vector);
            else Assert.Equal(row.Rule, ((SparsifiedTensor)vector).Options.Method.ToString());
        }
    }

    [Theory]
    [InlineData("ties", SparsifyMethod.Magnitude, ConsensusMethod.Sum, true)]
    [InlineData("dare_ties", SparsifyMethod.Random, ConsensusMethod.Sum, false)]
    [InlineData("breadcrumbs", SparsifyMethod.Breadcrumbs, ConsensusMethod.None, false)]
    [InlineData("della_linear", SparsifyMethod.Della, ConsensusMethod.None, false)]
    public void A_registered_method_gives_the_bytes_of_the_pipeline_that_composes_it(string name, SparsifyMethod rule, ConsensusMethod consensus, bool normalize)
    {
        // The pipeline: Limit-ChatVector -Method rule -Density 0.3 -Seed 7 | Add-ChatVector -Consensus consensus [-Normalize],
        // each vector its own stream of draws in arrival order, as Limit-ChatVector gives them.
        var (baseValues, vectors) = Values();
        var options = SparsifyFixture.Options(rule, 0.3, seed: 7) with { Norm = RescaleNorm.L1 }; // a config rescales as mergekit does
        var pipeline = new MergedTensor(Source("w", baseValues),
            vectors.Select((v, i) => new VectorTerm(new SparsifiedTensor(Source($"w", v), options with { Stream = i }), i == 0 ? 1.0 : 0.5)).ToList(), [], DType.BF16,
            new MixOptions(consensus, normalize));

        var method = MethodRegistry.Find(name);
        var mergeValues = new Dictionary<string, object> { ["density"] = 0.3 }; // a global default of a per-model parameter
        if (rule is SparsifyMethod.Random or SparsifyMethod.Della) mergeValues["seed"] = 7L; // the magnitude trims take none
        var (merge, perModel) = method.CheckParameters(mergeValues,
            [new Dictionary<string, object> { ["weight"] = 1.0 }, new Dictionary<string, object> { ["weight"] = 0.5 }]);
        var viaMethod = method.Merge(new MethodInputs(Source("w", baseValues),
            vectors.Select((v, i) => new MethodVector(Source("w", v), perModel[i])).ToList(), merge, DType.BF16));

        Assert.Equal(Bytes(pipeline), Bytes(viaMethod));
    }

    [Fact]
    public void Parameters_a_method_does_not_take_or_needs_are_refused_with_the_nearest_name()
    {
        var ties = MethodRegistry.Find("ties");
        var unknown = Assert.Throws<MethodParameterException>(() => ties.CheckParameters(new Dictionary<string, object> { ["densty"] = 0.5 }, []));
        Assert.Contains("'densty'", unknown.Message);
        Assert.Contains("did you mean 'density'", unknown.Message);
        var missing = Assert.Throws<MethodParameterException>(() => ties.CheckParameters(null, [new Dictionary<string, object>()]));
        Assert.Contains("'weight' is required", missing.Message);
        var range = Assert.Throws<MethodParameterException>(() => ties.CheckParameters(null, [new Dictionary<string, object> { ["weight"] = 1.0, ["density"] = 1.5 }]));
        Assert.Contains("between 0 and 1", range.Message);
        var method = Assert.Throws<MethodParameterException>(() => MethodRegistry.Find("tie"));
        Assert.Contains("did you mean 'ties'", method.Message);
    }

    [Fact]
    public void A_new_method_is_one_file_and_one_registry_line()
    {
        MethodRegistry.Register(new NormMatchedSumMethod()); // the one line
        var method = MethodRegistry.Find("norm_matched_sum");
        var (baseValues, vectors) = Values();
        var (merge, perModel) = method.CheckParameters(null, [new Dictionary<string, object> { ["weight"] = 0.75 }, new Dictionary<string, object>()]);
        var inputs = new MethodInputs(Source("w", baseValues), vectors.Select((v, i) => new MethodVector(Source("w", v), perModel[i])).ToList(), merge, DType.F32);

        // Independently: float64 norms by LINQ, then the float32 formula per element.
        double norm0 = Math.Sqrt(vectors[0].Sum(x => (double)x * x)), norm1 = Math.Sqrt(vectors[1].Sum(x => (double)x * x));
        float scale0 = (float)(0.75 * norm0 / norm0), scale1 = (float)(1.0 * norm0 / norm1);
        var expected = baseValues.Select((b, i) => b + scale0 * vectors[0][i] + scale1 * vectors[1][i]).ToArray();

        // Exported as a user's merge is, with two chunkings and thread counts: the same bytes, the expected values.
        var hashes = new HashSet<string>();
        foreach (var (chunkBytes, threads) in new[] { (4096, 1), (1 << 20, 2) })
        {
            var root = Directory.CreateTempSubdirectory("cv-method-").FullName;
            try
            {
                string target = Path.Combine(root, "model.safetensors");
                ModelExporter.Export(new ExportRequest(target, [method.Merge(inputs)], Streaming: new StreamingOptions(chunkBytes, threads)), ComputeContext.Cpu());
                var bytes = File.ReadAllBytes(target);
                hashes.Add(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)));
                var actual = ChatVector.TestKit.Independent.IndependentSafeTensorReader.ReadValues(target)["w"].Select(x => (float)x).ToArray();
                Assert.Equal(expected, actual);
            }
            finally { Directory.Delete(root, recursive: true); }
        }
        Assert.Single(hashes);
    }

    private static MethodInputs Inputs(MergeMethod method, ParameterValues merge, IReadOnlyList<ParameterValues> perModel)
    {
        var (baseValues, vectors) = Values();
        return new MethodInputs(Source("w", baseValues), [new MethodVector(Source("w", vectors[0]), perModel[0])], merge, DType.BF16);
    }

    /// <summary>A bf16 base and two deltas a few bf16 steps wide, as a chat vector is.</summary>
    private static (float[] Base, float[][] Vectors) Values()
    {
        int n = (int)(Shape[0] * Shape[1]);
        var random = new Random(5);
        var baseValues = Enumerable.Range(0, n).Select(_ => Bf16((float)(random.NextDouble() - 0.5) * 0.1f)).ToArray();
        float[] Delta(int seed) => SparsifyFixture.Bf16Like(n, seed);
        return (baseValues, [Delta(1), Delta(2)]);
    }

    private static float Bf16(float x) => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) & 0xFFFF_0000u);

    private static ITensorSource Source(string name, float[] values) => new ArraySource(name, values, Shape);

    private static byte[] Bytes(ITensorSource source)
    {
        var bytes = new byte[source.ByteLength];
        source.CopyBytes(0, bytes, ComputeContext.Cpu());
        return bytes;
    }
}
