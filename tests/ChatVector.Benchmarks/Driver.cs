using System.Diagnostics;
using System.Globalization;

namespace ChatVector.Benchmarks;

/// <summary>Generates the trios, runs floor and merges in child processes, prints a table per method.</summary>
internal static class Driver
{
    private const int Repeats = 3;

    private sealed record Row(double Gb, Child.Figures Merge, Child.Figures Floor);

    public static int Run(string[] args)
    {
        var sizes = Option(args, "--sizes")?.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray() ?? [1.0, 2.0];
        var methods = Option(args, "--methods")?.Split(',').Select(MergeMethods.Parse).ToArray() ?? MergeMethods.All;
        bool keep = args.Contains("--keep");
        var cache = PageCache.Parse(Option(args, "--cache") ?? "warm");
        var root = Path.Combine(Path.GetTempPath(), "chatvector-bench");
        Console.WriteLine($"ChatVector streaming merge benchmark: {Environment.ProcessorCount} cores, work in {root}, every run starts {PageCache.Describe(cache)}");
        var rows = methods.ToDictionary(m => m, _ => new List<Row>());
        foreach (var gb in sizes)
        {
            var dir = Path.Combine(root, gb.ToString("0.##", CultureInfo.InvariantCulture) + "GB");
            if (!File.Exists(Path.Combine(dir, "cp", "config.json"))) Child.Expect(RunChild("gen", dir, gb.ToString(CultureInfo.InvariantCulture)));
            try
            {
                foreach (var method in methods)
                {
                    var row = Measure(dir, gb, method, cache);
                    rows[method].Add(row);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {MergeMethods.Name(method)} at {gb} GB: {Format(row)}"));
                }
            }
            finally
            {
                if (!keep) Directory.Delete(dir, recursive: true);
            }
        }
        foreach (var method in methods)
        {
            Console.WriteLine();
            Console.WriteLine($"{MergeMethods.Name(method)}:");
            Console.WriteLine("| GB per model | merge wall s | I/O floor s | wall / floor | merge peak RSS MB | floor peak RSS MB |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var row in rows[method]) Console.WriteLine(Format(row));
        }
        Console.WriteLine();
        Console.WriteLine("Targets: add <= 1.3 x floor, ties <= 2.5 x floor, peak RSS <= 512 MB for every method.");
        return 0;
    }

    /// <summary>
    /// Disk write-back makes single runs noisy: floor and merge alternate, three times; medians (peak RSS: the largest).
    /// Every run starts from the same page cache (<see cref="PageCache"/>): left as the run before left it, a merge after a
    /// floor found the inputs the floor's buffered write had pushed out, and read them from disk, while a floor after a
    /// merge (whose writes bypass the cache) found them all.
    /// </summary>
    private static Row Measure(string dir, double gb, MergeMethod method, PageCacheState cache)
    {
        var floors = new List<Child.Figures>();
        var merges = new List<Child.Figures>();
        for (int run = 0; run < Repeats; run++)
        {
            PageCache.Prepare(dir, cache);
            floors.Add(Child.Expect(RunChild("floor", dir)));
            PageCache.Prepare(dir, cache);
            merges.Add(Child.Expect(RunChild("merge", dir, MergeMethods.Name(method))));
        }
        Directory.Delete(Path.Combine(dir, "merged"), recursive: true);
        return new Row(gb,
            new Child.Figures(Median(merges.Select(m => m.Seconds)), merges.Max(m => m.PeakRssMb)),
            new Child.Figures(Median(floors.Select(f => f.Seconds)), floors.Max(f => f.PeakRssMb)));
    }

    private static string Format(Row row) => string.Create(CultureInfo.InvariantCulture,
        $"| {row.Gb} | {row.Merge.Seconds:F2} | {row.Floor.Seconds:F2} | {row.Merge.Seconds / row.Floor.Seconds:F2} | {row.Merge.PeakRssMb:F0} | {row.Floor.PeakRssMb:F0} |");

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    internal static string RunChild(params string[] args)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(Driver).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', args)} failed ({child.ExitCode}): {output}");
        return output;
    }
}
