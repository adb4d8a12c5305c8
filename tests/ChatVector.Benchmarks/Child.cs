using System.Diagnostics;
using System.Globalization;
using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Tensors;
using Newtonsoft.Json.Linq;

namespace ChatVector.Benchmarks;

/// <summary>The measured work, one per child process; each prints "seconds peakRssMb".</summary>
internal static class Child
{
    public readonly record struct Figures(double Seconds, double PeakRssMb);

    public static Figures Expect(string output)
    {
        var parts = output.Trim().Split('\n')[^1].Split(' ');
        return new Figures(double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    public static int Generate(string dir, double gigabytes)
    {
        foreach (var (name, seed) in new[] { ("base", 1), ("chat", 2), ("cp", 3) })
            TrioGenerator.Write(Path.Combine(dir, name), gigabytes, seed);
        Print(Stopwatch.StartNew());
        return 0;
    }

    /// <summary>One merge (<see cref="MergeMethods"/>) into a sharded folder of 500 MB shards.</summary>
    public static int Merge(string dir, MergeMethod method)
    {
        UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        var clock = Stopwatch.StartNew();
        var request = MergeMethods.Request(dir, method);
        var plan = MergePlanner.Plan(request);
        var target = Path.Combine(dir, "merged");
        ModelExporter.Export(new ExportRequest(target, plan.Outputs, ByteSize.Parse("500MB"), Force: true, SideFiles: new SideFiles(request.Model)), ComputeContext.Cpu());
        Print(clock);
        Console.Error.WriteLine($"input tensors held in memory: {ResidentTensors.CopiesMade}; tensor bytes read from files: {SafeTensorFile.BytesReadFromFiles / 1e9:F1} GB");
        return 0;
    }

    /// <summary>The I/O floor: read the three inputs' tensor bytes and write as many bytes, no arithmetic.</summary>
    public static int Floor(string dir)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4 << 20];
        long outputBytes = 0;
        foreach (var name in new[] { "base", "chat", "cp" })
        {
            foreach (var tensor in StoredModel.Open(Path.Combine(dir, name)).Tensors)
            {
                PageCache.ReadAll(tensor, buffer);
                if (name == "cp") outputBytes += tensor.Info.ByteLength;
            }
        }
        var copy = Path.Combine(dir, "floor.bin");
        using (var output = new FileStream(copy, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            for (long written = 0; written < outputBytes; written += buffer.Length)
                output.Write(buffer, 0, (int)Math.Min(buffer.Length, outputBytes - written));
            output.Flush(flushToDisk: true);
        }
        File.Delete(copy);
        Print(clock);
        return 0;
    }

    /// <summary>The patched natives the module build lays out (module/bin/deps), unless the caller chose others.</summary>
    internal static void UseModuleNatives()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TorchRuntime.NativeDirEnvVar))) return;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatVector.PowerShell.sln")))
            {
                Environment.SetEnvironmentVariable(TorchRuntime.NativeDirEnvVar, Path.Combine(dir.FullName, "module", "bin", "deps"));
                return;
            }
    }

    internal static void Print(Stopwatch clock) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds:F3} {PeakRssMb():F1}"));

    /// <summary>VmHWM: the process's peak resident set, from /proc (Linux).</summary>
    internal static double PeakRssMb()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
