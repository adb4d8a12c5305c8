using System.Management.Automation;
using System.Management.Automation.Runspaces;
using ChatVector.Tests.Shared;
using Xunit;

namespace ChatVector.Integration.Tests;

/// <summary>Ctrl+C (PowerShell.Stop) in the middle of an export leaves the target untouched and no litter.</summary>
public sealed class CancellationTests
{
    [Fact]
    public void Stopping_the_pipeline_mid_export_leaves_nothing_behind()
    {
        var root = Directory.CreateTempSubdirectory("chatvector-stop-").FullName;
        try
        {
            var model = Path.Combine(root, "model");
            new LlamaModelBuilder { Seed = 3, Vocab = 1024, Hidden = 512, Intermediate = 1408, Layers = 8, Shards = 2 }.Write(model); // ~60 MB
            var target = Path.Combine(root, "copy");

            using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
            runspace.Open();
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript("Import-Module $args[0]; Get-SafeTensor $args[1] | Export-SafeTensor $args[2] -MaxShardSize 4MB -Checksum")
              .AddArgument(RepoPaths.Manifest).AddArgument(model).AddArgument(target);
            var running = ps.BeginInvoke();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            // Stop as soon as the export has started writing into its staging folder.
            while (!Directory.Exists(target) && !Directory.EnumerateDirectories(root, ".copy.partial-*").Any() && DateTime.UtcNow < deadline) Thread.Sleep(1);
            ps.Stop();
            try { ps.EndInvoke(running); } catch (PipelineStoppedException) { }

            var litter = Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Where(n => n!.StartsWith('.')).ToList();
            Assert.True(litter.Count == 0, "left behind: " + string.Join(", ", litter));
            // Either the stop came in time and there is no target, or the export had already completed.
            if (Directory.Exists(target)) Assert.Equal(8 * 9 + 3, IndependentSafeTensorReader.ReadFolder(target).Count);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
