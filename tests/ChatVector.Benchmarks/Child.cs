using System.Diagnostics;
using System.Globalization;
using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.IO;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Runtime;
using ChatVector.Core.Tensors;

namespace ChatVector.Benchmarks;

/// <summary>The measured work, one per child process; each prints "wall-seconds cpu-seconds peakRssMb" as its last line.</summary>
internal static class Child
{
    /// <summary>Wall and CPU (user + system) seconds of the measured part, and the process's peak resident set.</summary>
    public readonly record struct Figures(double Seconds, double CpuSeconds, double PeakRssMb);

    public static Figures Expect(string output)
    {
        var parts = output.Trim().Split('\n')[^1].Split(' ');
        double Part(int i) => double.Parse(parts[i], CultureInfo.InvariantCulture);
        return parts.Length >= 3 ? new Figures(Part(0), Part(1), Part(2)) : new Figures(Part(0), double.NaN, Part(1));
    }

    public static int Generate(string dir, TrioSpec spec)
    {
        var clock = Stopwatch.StartNew();
        TrioGenerator.WriteTrio(dir, spec);
        Console.Error.WriteLine(DeltaProfile.Describe(dir));
        Print(clock);
        return 0;
    }

    /// <summary>One merge (<see cref="MergeMethods"/>: a pipeline's, or a config's read and planned in the timed part) into a sharded folder of 500 MB shards; libtorch's load is not timed.</summary>
    public static int Merge(string dir, MergeMethod method)
    {
        UseModuleNatives();
        TorchRuntime.EnsureLoaded();
        if (method == MergeMethod.Lora) LoraBenchAdapter.Ensure(dir);
        var cpu = ResourceUsage.OfSelf();
        var clock = Stopwatch.StartNew();
        var (outputs, sideFilesFrom) = MergeMethods.Plan(dir, method);
        var target = Path.Combine(dir, "merged");
        ModelExporter.Export(new ExportRequest(target, outputs, ByteSize.Parse("500MB"), Force: true, SideFiles: new OutputSideFiles(sideFilesFrom)), ComputeContext.Cpu());
        Print(clock, cpu);
        Console.Error.WriteLine($"input tensors held in memory: {ResidentTensors.CopiesMade}; tensor bytes read from files: {SafeTensorFile.BytesReadFromFiles / 1e9:F1} GB");
        return 0;
    }

    /// <summary>
    /// The I/O floor: read the three inputs' tensor bytes and write as many bytes as the output, no arithmetic.
    /// Buffered (<paramref name="direct"/> false): one file through the page cache, then fsync, the reference of a
    /// plain copy. Direct: 500 MB shards written as the merge writes them (the Core's safetensors writer, O_DIRECT
    /// where Linux allows it), the tighter floor, since the merge never pays the kernel's copy into the cache.
    /// </summary>
    public static int Floor(string dir, bool direct)
    {
        var cpu = ResourceUsage.OfSelf();
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4 << 20];
        foreach (var name in TrioGenerator.Roles)
            foreach (var tensor in StoredModel.Open(Path.Combine(dir, name)).Tensors)
                PageCache.ReadAll(tensor, buffer);
        var output = StoredModel.Open(Path.Combine(dir, "cp")).Tensors.Select(t => new TensorDeclaration(t.Info.Name, t.Info.DType, t.Info.Shape)).ToList();
        var target = Path.Combine(dir, direct ? "floor-direct" : "floor.bin");
        if (direct) WriteShardsDirect(target, output, buffer);
        else WriteBuffered(target, output.Sum(t => t.ByteLength), buffer);
        Print(clock, cpu);
        if (direct) Directory.Delete(target, recursive: true);
        else File.Delete(target);
        return 0;
    }

    private static void WriteBuffered(string path, long bytes, byte[] buffer)
    {
        using var output = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        for (long written = 0; written < bytes; written += buffer.Length)
            output.Write(buffer, 0, (int)Math.Min(buffer.Length, bytes - written));
        output.Flush(flushToDisk: true);
    }

    private static void WriteShardsDirect(string folder, List<TensorDeclaration> tensors, byte[] buffer)
    {
        Directory.CreateDirectory(folder);
        foreach (var shard in ShardPacker.Pack(tensors, ByteSize.Parse("500MB")))
            SafeTensorWriter.Write(Path.Combine(folder, shard.FileName), SafeTensorWriter.Prepare(shard.Tensors, null), (info, stream) =>
            {
                for (long written = 0; written < info.ByteLength; written += buffer.Length)
                    stream.Write(buffer, 0, (int)Math.Min(buffer.Length, info.ByteLength - written));
            }, overwrite: true, default);
    }

    /// <summary>The patched natives the module build lays out (module/bin/deps), unless the caller chose others.</summary>
    internal static void UseModuleNatives()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TorchRuntime.NativeDirEnvVar))) return;
        Environment.SetEnvironmentVariable(TorchRuntime.NativeDirEnvVar, Path.Combine(RepositoryRoot(), "module", "bin", "deps"));
    }

    /// <summary>The folder holding ChatVector.PowerShell.sln above this program.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ChatVector.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no ChatVector.PowerShell.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Prints the wall time since <paramref name="clock"/> started, the CPU time since <paramref name="cpuAtStart"/> (default: the whole process), and the peak RSS.</summary>
    internal static void Print(Stopwatch clock, ResourceUsage.CpuTime cpuAtStart = default) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds:F3} {(ResourceUsage.OfSelf() - cpuAtStart).Seconds:F3} {PeakRssMb():F1}"));

    /// <summary>VmHWM: the process's peak resident set, from /proc (Linux).</summary>
    internal static double PeakRssMb()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
