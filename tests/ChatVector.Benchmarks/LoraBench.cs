using System.Diagnostics;
using System.Globalization;
using ChatVector.Core.Format;
using ChatVector.Core.LoraExport;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Benchmarks;

/// <summary>
/// Export-LoraAdapter's Core on a realistic trio (chat = base + small bf16 deltas): the rank-r extraction against
/// its I/O floor (reading base and chat once, writing the adapter's bytes), the same read without the SVD (what the
/// SVD adds), and the randomized factors' kept energy against the exact SVD's on one weight. Each in a child process.
/// </summary>
internal static class LoraBench
{
    public static int Run(string[] args)
    {
        string? Option(string name) { int at = Array.IndexOf(args, name); return at >= 0 && at + 1 < args.Length ? args[at + 1] : null; }
        var sizes = (Option("--sizes") ?? "1").Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var shape = ModelShape.Parse(Option("--shape") ?? "llama7b");
        int rank = int.Parse(Option("--rank") ?? "64", CultureInfo.InvariantCulture);
        var root = Option("--work") ?? Path.Combine(Path.GetTempPath(), "chatvector-bench");
        bool keep = args.Contains("--keep"), accuracy = !args.Contains("--no-accuracy");
        Console.WriteLine($"ChatVector LoRA extraction benchmark: {Environment.ProcessorCount} cores, rank {rank}, {shape.Name} layers, realistic deltas, page cache warm");
        var rows = new List<string>();
        foreach (var gb in sizes)
        {
            var trio = new TrioSpec(shape, TrioKind.Realistic, gb, TrioSpec.DefaultDeltaUlps);
            var dir = Path.Combine(root, trio.FolderName);
            if (!File.Exists(Path.Combine(dir, "cp", "config.json")))
                Console.WriteLine($"  generated {trio.FolderName} in {Child.Expect(Driver.RunChild(trio.GenerateArguments(dir))).Seconds:F0} s");
            try
            {
                PageCache.Prepare(dir, PageCacheState.Warm);
                var floor = Child.Expect(Driver.RunChild("lora-floor", dir, rank.ToString(CultureInfo.InvariantCulture)));
                PageCache.Prepare(dir, PageCacheState.Warm);
                var read = Child.Expect(Driver.RunChild("lora-read", dir));
                PageCache.Prepare(dir, PageCacheState.Warm);
                var export = Child.Expect(Driver.RunChild("lora", dir, rank.ToString(CultureInfo.InvariantCulture)));
                var row = string.Create(CultureInfo.InvariantCulture,
                    $"| {gb} | {export.Seconds:F1} | {export.CpuSeconds:F1} | {floor.Seconds:F1} | {export.Seconds / floor.Seconds:F1} | {read.Seconds:F1} | {export.Seconds - read.Seconds:F1} | {export.PeakRssMb:F0} |");
                rows.Add(row);
                Console.WriteLine("  " + row);
                if (accuracy && gb == sizes[0])
                    Console.WriteLine(Driver.RunChild("lora-accuracy", dir, rank.ToString(CultureInfo.InvariantCulture)).Trim());
            }
            finally
            {
                if (!keep) Directory.Delete(dir, recursive: true);
            }
        }
        Console.WriteLine();
        Console.WriteLine("| GB per model | extract wall s | extract CPU s | I/O floor s | wall / floor | read + subtract s (no SVD) | SVD and the rest s | peak RSS MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine("Goal: rank-64 extraction within 10 x the I/O floor, peak RSS <= 1 GB.");
        return 0;
    }

    private static LoraExportRequest Request(string dir, int rank)
    {
        var @base = StoredModel.Open(Path.Combine(dir, "base"));
        var vectors = ChatVectorPairing.Pair(@base, StoredModel.Open(Path.Combine(dir, "chat")), _ => true).Vectors.Cast<ITensorSource>().ToList();
        return new LoraExportRequest(Path.Combine(dir, "adapter"), vectors, new LoraRankRule(rank, null, null), _ => true, Force: true)
        {
            BaseOf = v => BaseWeights.Of(v, @base),
        };
    }

    /// <summary>The extraction as Export-LoraAdapter runs it (embeddings whole, the default); libtorch's load not timed.</summary>
    public static int Export(string dir, int rank)
    {
        Child.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        var cpu = ResourceUsage.OfSelf();
        var clock = Stopwatch.StartNew();
        var request = Request(dir, rank);
        var outcome = LoraExporter.Export(request, LoraPlan.Make(request), ComputeContext.Cpu());
        Child.Print(clock, cpu);
        foreach (var tensor in outcome.Tensors.Where(t => t.Kind == LoraTensorKind.Lora).Take(7))
            Console.Error.WriteLine($"{tensor.Name}: rank {tensor.Rank}, kept energy {tensor.KeptEnergy:P2}");
        Directory.Delete(request.TargetFolder, recursive: true);
        return 0;
    }

    /// <summary>Every factored weight's vector read into float32 as the export reads it, no SVD, nothing written.</summary>
    public static int ReadOnly(string dir)
    {
        Child.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        var cpu = ResourceUsage.OfSelf();
        var clock = Stopwatch.StartNew();
        var request = Request(dir, 1);
        var context = ComputeContext.Cpu();
        var buffer = new float[1 << 20];
        foreach (var item in LoraPlan.Make(request))
        {
            var source = (IFloat32Source)item.Vector;
            for (long first = 0; first < item.Vector.ElementCount; first += buffer.Length)
                source.ReadFloat32(first, buffer.AsSpan(0, (int)Math.Min(buffer.Length, item.Vector.ElementCount - first)), context);
        }
        Child.Print(clock, cpu);
        return 0;
    }

    /// <summary>The I/O floor: base and chat tensor bytes read once, the adapter's bytes written (no arithmetic).</summary>
    public static int Floor(string dir, int rank)
    {
        var cpu = ResourceUsage.OfSelf();
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4 << 20];
        foreach (var name in new[] { "base", "chat" })
            foreach (var tensor in StoredModel.Open(Path.Combine(dir, name)).Tensors)
                PageCache.ReadAll(tensor, buffer);
        long output = StoredModel.Open(Path.Combine(dir, "base")).Tensors.Where(t => t.Info.Shape.Length == 2).Sum(t =>
            HuggingFaceNames.IsEmbedding(t.Name) ? t.Info.ByteLength : 4L * rank * (t.Info.Shape[0] + t.Info.Shape[1]));
        var path = Path.Combine(dir, "lora-floor.bin");
        SafeTensorWriter.Write(path, SafeTensorWriter.Prepare([new TensorDeclaration("floor", DType.U8, [output])], null), (info, stream) =>
        {
            for (long written = 0; written < info.ByteLength; written += buffer.Length)
                stream.Write(buffer, 0, (int)Math.Min(buffer.Length, info.ByteLength - written));
        }, overwrite: true, default);
        Child.Print(clock, cpu);
        File.Delete(path);
        return 0;
    }

    /// <summary>The randomized rank-r factors' kept energy against the exact SVD's on the first attention and MLP weight.</summary>
    public static int Accuracy(string dir, int rank)
    {
        Child.UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        var request = Request(dir, rank);
        foreach (var vector in request.Vectors.Where(v => v.Name.EndsWith("q_proj.weight") || v.Name.EndsWith("down_proj.weight")).Take(2))
        {
            using var scope = torch.NewDisposeScope();
            var matrix = vector.ReadChunk(0, vector.ElementCount, ComputeContext.Cpu()).view(vector.Shape);
            double total = matrix.to(torch.ScalarType.Float64).square().sum().item<double>();
            var clock = Stopwatch.StartNew();
            using var randomized = TruncatedSvd.Randomized(matrix, rank, 1);
            double randomizedSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using var exact = TruncatedSvd.Exact(matrix, rank);
            double exactSeconds = clock.Elapsed.TotalSeconds;
            double Kept(SvdFactors f) => f.S.to(torch.ScalarType.Float64).square().sum().item<double>() / total;
            double keptRandomized = Kept(randomized), keptExact = Kept(exact);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {vector.Name} [{string.Join("x", vector.Shape)}]: kept energy randomized {keptRandomized:P3} ({randomizedSeconds:F1} s), exact {keptExact:P3} ({exactSeconds:F1} s); " +
                $"Frobenius error randomized / exact {Math.Sqrt((1 - keptRandomized) / (1 - keptExact)):F5}"));
        }
        return 0;
    }
}
