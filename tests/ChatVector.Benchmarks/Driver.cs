using System.Diagnostics;
using System.Globalization;

namespace ChatVector.Benchmarks;

/// <summary>Generates the trios, runs floor and merge in child processes, prints the figures.</summary>
internal static class Driver
{
    public static int Run(string[] args)
    {
        var sizes = args is ["--sizes", var list] ? list.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [1.0, 2.0];
        var root = Path.Combine(Path.GetTempPath(), "chatvector-bench");
        Console.WriteLine($"ChatVector streaming merge benchmark: {Environment.ProcessorCount} cores, work in {root}");
        Console.WriteLine("| GB per model | merge wall s | merge peak RSS MB | I/O floor s | floor peak RSS MB | wall / floor |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var gb in sizes)
        {
            var dir = Path.Combine(root, gb.ToString("0.##", CultureInfo.InvariantCulture) + "GB");
            if (!File.Exists(Path.Combine(dir, "cp", "config.json"))) Child.Expect(RunChild("gen", dir, gb.ToString(CultureInfo.InvariantCulture)));
            RunChild("floor", dir); // warm the page cache the same way for both
            // Disk write-back makes single runs noisy: alternate the two, three times, and take medians (peak RSS: the largest).
            var floors = new List<Child.Figures>();
            var merges = new List<Child.Figures>();
            for (int run = 0; run < Repeats; run++)
            {
                floors.Add(Child.Expect(RunChild("floor", dir)));
                merges.Add(Child.Expect(RunChild("merge", dir)));
            }
            double floor = Median(floors.Select(f => f.Seconds)), merge = Median(merges.Select(f => f.Seconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {gb} | {merge:F2} | {merges.Max(m => m.PeakRssMb):F0} | {floor:F2} | {floors.Max(f => f.PeakRssMb):F0} | {merge / floor:F2} |"));
        }
        Console.WriteLine("Targets: wall <= 1.5 x floor, merge peak RSS <= 512 MB and flat across sizes.");
        return 0;
    }

    private const int Repeats = 3;

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
