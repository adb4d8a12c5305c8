using System.Diagnostics;
using System.Globalization;

namespace ChatVector.Benchmarks;

/// <summary>Generates the trios, runs floors and merges in child processes, prints a table of them all.</summary>
internal static class Driver
{
    /// <summary>The goals for realistic deltas (docs/performance.md), start-up excluded: wall against the floor, CPU seconds per GB written.</summary>
    private const string Goals = "Goals (realistic deltas, start-up excluded): add and lora <= 1.2 x floor, ties and dare-ties <= 1.5 x floor, "
        + "every Limit-ChatVector method <= 2 x floor, peak RSS <= 512 MB; add <= 3, ties <= 6, dare-ties <= 5 CPU-s per GB of output; "
        + "config methods: slerp, nuslerp, multislerp and model_stock <= 1.5 x floor and <= 4 CPU-s per GB, the others <= 2 x floor and <= 8.";

    /// <summary>One child's figures: its own (the measured part, printed by the child) and the process's, seen from here.</summary>
    private readonly record struct ChildRun(Child.Figures Inside, double ProcessSeconds, double ProcessCpuSeconds);

    /// <summary>The medians of one method on one trio (peak RSS: the largest of the runs).</summary>
    private sealed record Row(TrioSpec Trio, MergeMethod Method, PageCacheState Cache, double OutputGb,
        Child.Figures Merge, Child.Figures Floor, Child.Figures DirectFloor, double OverFloor, double OverDirectFloor, PwshFigures? Pwsh);

    /// <summary>
    /// The method run as a user runs it: the whole pwsh process's wall time, a start-up-only process's wall and CPU
    /// time, and the pipeline's own figures measured inside the process.
    /// </summary>
    private sealed record PwshFigures(double ProcessSeconds, double StartUpSeconds, double StartUpCpuSeconds, Child.Figures Pipeline, double OverFloor, double OverDirectFloor);

    public static int Run(string[] args)
    {
        var sizes = List(args, "--sizes", "1,2").Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var methods = Option(args, "--methods") is { } list ? MergeMethods.ParseList(list) : MergeMethods.All;
        var shapes = List(args, "--shape", "h2048").Select(ModelShape.Parse).ToArray();
        var kinds = List(args, "--kind", "realistic").Select(TrioSpec.ParseKind).ToArray();
        var deltaUlps = List(args, "--delta-ulps", TrioSpec.DefaultDeltaUlps.ToString(CultureInfo.InvariantCulture))
            .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int repeats = int.Parse(Option(args, "--repeats") ?? "3", CultureInfo.InvariantCulture);
        bool keep = args.Contains("--keep"), pwsh = args.Contains("--pwsh");
        var cache = PageCache.Parse(Option(args, "--cache") ?? "warm");
        var root = Option(args, "--work") ?? Path.Combine(Path.GetTempPath(), "chatvector-bench");
        Console.WriteLine($"ChatVector streaming merge benchmark: {Environment.ProcessorCount} cores, work in {root}, every run starts {PageCache.Describe(cache)}, medians of {repeats}");
        var rows = new List<Row>();
        var trios = from shape in shapes
                    from kind in kinds
                    from ulps in kind == TrioKind.Realistic ? deltaUlps : [TrioSpec.DefaultDeltaUlps]
                    from gb in sizes
                    select new TrioSpec(shape, kind, gb, ulps);
        foreach (var trio in trios)
        {
            var dir = Path.Combine(root, trio.FolderName);
            if (!File.Exists(Path.Combine(dir, "cp", "config.json")))
            {
                var generated = Child.Expect(RunChild(trio.GenerateArguments(dir)));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  generated {trio.FolderName} in {generated.Seconds:F0} s"));
            }
            try
            {
                foreach (var method in methods)
                {
                    var row = Measure(dir, trio, method, cache, repeats, pwsh);
                    rows.Add(row);
                    Console.WriteLine($"  {trio.FolderName} {MergeMethods.Name(method)}: {Format(row)}");
                    if (row.Pwsh is not null) Console.WriteLine($"  {trio.FolderName} {MergeMethods.Name(method)} in pwsh: {FormatPwsh(row)}");
                }
            }
            finally
            {
                if (!keep) Directory.Delete(dir, recursive: true);
            }
        }
        Console.WriteLine();
        Console.WriteLine("In-process merges (the Core as the cmdlets drive it; libtorch's load not timed). CPU: user + system of the child.");
        Console.WriteLine("| shape | kind | GB per model | cache | method | wall s | CPU s | CPU-s per GB out | floor s | direct floor s | wall / floor | wall / direct floor | floor CPU-s per GB | direct floor CPU-s per GB | peak RSS MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(Format(row));
        if (pwsh)
        {
            Console.WriteLine();
            Console.WriteLine("One pwsh process per run (dotnet pwsh -File Invoke-BenchmarkMerge.ps1): start-up (import, libtorch's load) from a process that only starts up.");
            Console.WriteLine("| shape | kind | GB per model | cache | method | process wall s | start-up s | start-up CPU s | pipeline wall s | pipeline CPU-s per GB out | pipeline / floor | pipeline / direct floor | peak RSS MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var row in rows.Where(r => r.Pwsh is not null)) Console.WriteLine(FormatPwsh(row));
        }
        Console.WriteLine();
        Console.WriteLine(Goals);
        return 0;
    }

    /// <summary>
    /// Disk write-back makes single runs noisy: the floors and the merge alternate, <paramref name="repeats"/> times;
    /// medians, and the median of each run's ratio to the floors run beside it (peak RSS: the largest).
    /// Every run starts from the same page cache (<see cref="PageCache"/>): left as the run before left it, a merge after a
    /// floor found the inputs the floor's buffered write had pushed out, and read them from disk, while a floor after a
    /// merge (whose writes bypass the cache) found them all.
    /// </summary>
    private static Row Measure(string dir, TrioSpec trio, MergeMethod method, PageCacheState cache, int repeats, bool pwsh)
    {
        var floors = new List<ChildRun>();
        var directFloors = new List<ChildRun>();
        var merges = new List<ChildRun>();
        var startUps = new List<ChildRun>();
        var pipelines = new List<ChildRun>();
        string merged = Path.Combine(dir, "merged"), mergedByPwsh = Path.Combine(dir, "merged-pwsh");
        // Written once before the first run (not timed), so that every run, pwsh's included, starts with it in the same page-cache state.
        if (method == MergeMethod.Lora) LoraBenchAdapter.Ensure(dir);
        if (MergeMethods.RunsFromConfig(method)) MergeMethods.ConfigPath(dir, method); // the pwsh run imports it too
        for (int run = 0; run < repeats; run++)
        {
            PageCache.Prepare(dir, cache);
            floors.Add(Measured(Self("floor", dir)));
            PageCache.Prepare(dir, cache);
            directFloors.Add(Measured(Self("floor-direct", dir)));
            // Each output is deleted once measured: at 8 GB per model the disk then holds the trio and one output at most.
            PageCache.Prepare(dir, cache);
            merges.Add(Measured(Self("merge", dir, MergeMethods.Name(method))));
            DeleteFolder(merged);
            if (!pwsh) continue;
            PageCache.Prepare(dir, cache);
            startUps.Add(Measured(Pwsh("StartUp", dir)));
            PageCache.Prepare(dir, cache);
            pipelines.Add(Measured(Pwsh(MergeMethods.Name(method), dir)));
            DeleteFolder(mergedByPwsh);
        }
        double outputGb = OutputBytes(dir) / 1e9;
        PwshFigures? pwshFigures = pwsh
            ? new PwshFigures(Median(pipelines.Select(p => p.ProcessSeconds)), Median(startUps.Select(s => s.ProcessSeconds)), Median(startUps.Select(s => s.ProcessCpuSeconds)),
                Medians(pipelines), Median(pipelines.Zip(floors, (p, f) => p.Inside.Seconds / f.Inside.Seconds)), Median(pipelines.Zip(directFloors, (p, f) => p.Inside.Seconds / f.Inside.Seconds)))
            : null;
        return new Row(trio, method, cache, outputGb, Medians(merges), Medians(floors), Medians(directFloors),
            Median(merges.Zip(floors, (m, f) => m.Inside.Seconds / f.Inside.Seconds)), Median(merges.Zip(directFloors, (m, f) => m.Inside.Seconds / f.Inside.Seconds)), pwshFigures);
    }

    private static long OutputBytes(string dir) => ChatVector.Core.Models.StoredModel.Open(Path.Combine(dir, "cp")).Tensors.Sum(t => t.Info.ByteLength);

    private static Child.Figures Medians(List<ChildRun> runs) =>
        new(Median(runs.Select(r => r.Inside.Seconds)), Median(runs.Select(r => r.Inside.CpuSeconds)), runs.Max(r => r.Inside.PeakRssMb));

    private static void DeleteFolder(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    private static string Format(Row row) => string.Create(CultureInfo.InvariantCulture,
        $"| {Label(row)} | {row.Merge.Seconds:F2} | {row.Merge.CpuSeconds:F2} | {row.Merge.CpuSeconds / row.OutputGb:F2} | {row.Floor.Seconds:F2} | {row.DirectFloor.Seconds:F2} | {row.OverFloor:F2} | {row.OverDirectFloor:F2} | {row.Floor.CpuSeconds / row.OutputGb:F2} | {row.DirectFloor.CpuSeconds / row.OutputGb:F2} | {row.Merge.PeakRssMb:F0} |");

    private static string FormatPwsh(Row row)
    {
        var p = row.Pwsh!;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {Label(row)} | {p.ProcessSeconds:F2} | {p.StartUpSeconds:F2} | {p.StartUpCpuSeconds:F2} | {p.Pipeline.Seconds:F2} | {p.Pipeline.CpuSeconds / row.OutputGb:F2} | {p.OverFloor:F2} | {p.OverDirectFloor:F2} | {p.Pipeline.PeakRssMb:F0} |");
    }

    private static string Label(Row row) => string.Create(CultureInfo.InvariantCulture,
        $"{row.Trio.Shape.Name} | {(row.Trio.Kind == TrioKind.Realistic ? $"realistic {row.Trio.DeltaUlps:0.##} ulp" : "independent")} | {row.Trio.Gigabytes} | {(row.Cache == PageCacheState.Warm ? "warm" : "cold")} | {MergeMethods.Name(row.Method)}");

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static string[] List(string[] args, string name, string fallback) => (Option(args, name) ?? fallback).Split(',');

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Runs a child, timing the whole process from here and taking its CPU time from the waited-for children's rusage.</summary>
    private static ChildRun Measured(ProcessStartInfo start)
    {
        var cpuBefore = ResourceUsage.OfWaitedChildren();
        var clock = Stopwatch.StartNew();
        var output = Execute(start);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (ResourceUsage.OfWaitedChildren() - cpuBefore).Seconds;
        return new ChildRun(output.Trim().Length > 0 ? Child.Expect(output) : default, seconds, cpu);
    }

    /// <summary>This program again, with <paramref name="args"/>.</summary>
    private static ProcessStartInfo Self(params string[] args)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(Driver).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>`dotnet pwsh` from the repository root running Invoke-BenchmarkMerge.ps1.</summary>
    private static ProcessStartInfo Pwsh(string method, string dir) => PwshScript("Invoke-BenchmarkMerge.ps1", "-Method", method, "-Dir", dir);

    /// <summary>`dotnet pwsh` from the repository root (its tool manifest) running one of this folder's scripts.</summary>
    private static ProcessStartInfo PwshScript(string script, params string[] args)
    {
        var repository = Child.RepositoryRoot();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, WorkingDirectory = repository };
        foreach (var a in new[] { "pwsh", "-NoProfile", "-NonInteractive", "-File", Path.Combine(repository, "tests", "ChatVector.Benchmarks", script) }.Concat(args))
            start.ArgumentList.Add(a);
        return start;
    }

    internal static string RunChild(params string[] args) => Execute(Self(args));

    internal static string RunPwshScript(string script, params string[] args) => Execute(PwshScript(script, args));

    private static string Execute(ProcessStartInfo start)
    {
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({child.ExitCode}): {output}");
        return output;
    }
}
