using System.Diagnostics;
using System.Globalization;
using ChatVector.Core.Config;
using ChatVector.Core.Format;
using ChatVector.Core.Models;
using ChatVector.TestKit;

namespace ChatVector.Benchmarks;

/// <summary>
/// Import-MergeConfig's own cost on a 7B-shaped config: reading the YAML, resolving the models, opening their headers,
/// pairing every tensor with the base and resolving and checking its parameters, before any tensor is read. The models
/// are LLaMA-7B-shaped folders (32 layers, 291 tensors, 13.5 GB each) whose shards hold a real header and no data:
/// sparse files, so four of them take no disk, and nothing planned reads past a header.
/// </summary>
internal static class ConfigBench
{
    private static readonly LlamaDimensions SevenB = new(ModelShape.Vocab, 4096, 11008, 32, 32, 32);
    private static readonly string[] Models = ["base", "model_a", "model_b", "model_c"];

    /// <summary>The configs measured, as mergekit's examples write them (each model's values per tensor: gradients over the layers, filters).</summary>
    private static readonly (string Name, string Text)[] Configs =
    [
        ("ties", """
            merge_method: ties
            base_model: base
            models:
              - model: model_a
                parameters:
                  density: [1, 0.7, 0.1]
                  weight: 1.0
              - model: model_b
                parameters:
                  density: 0.5
                  weight: [0, 0.3, 0.7, 1]
              - model: model_c
                parameters:
                  density: 0.33
                  weight:
                    - filter: mlp
                      value: 0.5
                    - value: 0
            parameters:
              normalize: true
              int8_mask: true
            dtype: bfloat16
            """),
        ("gradient-slerp", """
            merge_method: slerp
            base_model: model_a
            slices:
              - sources:
                  - model: model_a
                    layer_range: [0, 32]
                  - model: model_b
                    layer_range: [0, 32]
            parameters:
              t:
                - filter: self_attn
                  value: [0, 0.5, 0.3, 0.7, 1]
                - filter: mlp
                  value: [1, 0.5, 0.7, 0.3, 0]
                - value: 0.5
            dtype: bfloat16
            """),
        ("karcher", """
            merge_method: karcher
            base_model: base
            models:
              - model: model_a
              - model: model_b
              - model: model_c
            parameters:
              max_iter: 10
            dtype: bfloat16
            """),
    ];

    /// <summary>config-bench [--repeats N] [--pwsh] [--work folder]: one line per config, then a table.</summary>
    public static int Run(string[] args)
    {
        int repeats = int.Parse(Option(args, "--repeats") ?? "5", CultureInfo.InvariantCulture);
        bool pwsh = args.Contains("--pwsh");
        var dir = Path.Combine(Option(args, "--work") ?? Path.Combine(Path.GetTempPath(), "chatvector-bench"), "config-7b");
        WriteModels(dir);
        Console.WriteLine($"Import-MergeConfig's own cost, 7B-shaped models (headers only), {Environment.ProcessorCount} cores; later calls: median of {repeats}");
        var rows = new List<string>();
        foreach (var (name, text) in Configs)
        {
            var path = Path.Combine(dir, $"{name}.yml");
            File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
            var core = Driver.RunChild("config-plan", path, repeats.ToString(CultureInfo.InvariantCulture)).Trim().Split('\n')[^1].Split(' ');
            string[] cmdlet = pwsh ? Driver.RunPwshScript("Measure-ConfigImport.ps1", "-Config", path, "-Repeats", repeats.ToString(CultureInfo.InvariantCulture)).Trim().Split('\n')[^1].Split(' ') : ["-", "-"];
            var row = $"| {name} | {core[2]} | {core[0]} | {core[1]} | {cmdlet[0]} | {cmdlet[1]} |";
            Console.WriteLine($"  {row}");
            rows.Add(row);
        }
        Console.WriteLine();
        Console.WriteLine("Core: MergeConfig.Read + ConfigMerge.Plan in a fresh process (first: JIT included). pwsh: Import-MergeConfig after the module's import and libtorch's load.");
        Console.WriteLine("| config | tensors | Core first s | Core later s | pwsh first s | pwsh later s |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine();
        Console.WriteLine("Goal: under 1 s.");
        return 0;
    }

    /// <summary>The child: one config read and planned, first in this process and then <paramref name="repeats"/> times more; prints "first-s later-median-s tensors".</summary>
    public static int Plan(string path, int repeats)
    {
        var clock = Stopwatch.StartNew();
        int tensors = ConfigMerge.Plan(MergeConfig.Read(path)).Outputs.Count;
        double first = clock.Elapsed.TotalSeconds;
        var later = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            clock.Restart();
            ConfigMerge.Plan(MergeConfig.Read(path));
            later.Add(clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{first:F3} {Driver.Median(later):F3} {tensors}"));
        return 0;
    }

    /// <summary>The four models, once: 5 GB shards as a 7B checkpoint has them, each a header followed by a hole of its data's length.</summary>
    private static void WriteModels(string dir)
    {
        var tensors = LlamaWeights.Of(SevenB).Select(w => new TensorDeclaration(w.Name, DType.BF16, w.Shape)).ToList();
        foreach (var name in Models)
        {
            var folder = Path.Combine(dir, name);
            if (File.Exists(Path.Combine(folder, "config.json"))) continue;
            Directory.CreateDirectory(folder);
            var weightMap = new Dictionary<string, string>();
            foreach (var shard in ShardPacker.Pack(tensors, ByteSize.Parse("5GB")))
            {
                var prepared = SafeTensorWriter.Prepare(shard.Tensors, null);
                using (var file = new FileStream(Path.Combine(folder, shard.FileName), FileMode.Create, FileAccess.Write))
                {
                    file.Write(prepared.HeaderWithLength);
                    file.SetLength(prepared.TotalLength);
                }
                foreach (var t in shard.Tensors) weightMap[t.Name] = shard.FileName;
            }
            new ModelIndex(tensors.Sum(t => t.ByteLength), weightMap).Write(Path.Combine(folder, ModelIndex.FileName));
            TrioGenerator.WriteConfig(folder, ModelShape.Llama7B, SevenB.Layers);
        }
    }

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
