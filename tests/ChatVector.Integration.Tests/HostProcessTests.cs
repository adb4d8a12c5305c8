using System.Diagnostics;
using Xunit;

namespace ChatVector.Integration.Tests;

/// <summary>Runs the built cvhost as a user would: a separate process, exit code and streams.</summary>
public sealed class HostProcessTests
{
    [Fact]
    public void Get_ChatVectorRuntime_prints_the_self_test_and_exits_0()
    {
        var (code, stdout, stderr) = RunHost("-Command", "Get-ChatVectorRuntime");
        Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.Matches(@"SelfTest\s*:\s*Passed", stdout);
        Assert.DoesNotContain("\u001b[", stdout); // redirected output is plain text
    }

    [Fact]
    public void A_failing_command_exits_1_with_the_error_on_stderr()
    {
        var (code, stdout, stderr) = RunHost("-Command", "Get-ChatVectorRuntime -Device tpu");
        Assert.Equal(1, code);
        Assert.Contains("Unknown device 'tpu'", stderr);
        Assert.Contains("InvalidDevice,ChatVector.PowerShell.Cmdlets.GetChatVectorRuntimeCommand", stderr);
        Assert.DoesNotContain("Unknown device", stdout);
    }

    [Fact]
    public void Bad_usage_exits_2()
    {
        var (code, _, stderr) = RunHost("-NoSuchSwitch");
        Assert.Equal(2, code);
        Assert.Contains("usage:", stderr);
    }

    [Fact]
    public void Inspecting_validating_and_resharding_work_where_libtorch_cannot_load()
    {
        var noNatives = Directory.CreateTempSubdirectory("chatvector-nonatives-").FullName;
        var target = Path.Combine(noNatives, "resharded");
        try
        {
            var (code, stdout, stderr) = RunHostWith(new Dictionary<string, string> { ["CHATVECTOR_NATIVE_DIR"] = noNatives },
                "-Command", $"Get-SafeTensor examples/tiny/cp | Export-SafeTensor '{target}' -MaxShardSize 20KB; (Test-SafeTensor '{target}' -Data).ChecksumsVerified; (Test-SafeTensor '{target}').Valid");
            Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
            Assert.EndsWith("True", stdout.Trim());
            Assert.True(Directory.GetFiles(target, "*.safetensors").Length > 1);

            var (failed, _, error) = RunHostWith(new Dictionary<string, string> { ["CHATVECTOR_NATIVE_DIR"] = noNatives },
                "-Command", "Get-SafeTensor examples/tiny/cp -Name model.norm.weight | Show-SafeTensor");
            Assert.Equal(1, failed);
            Assert.Contains("DeviceUnavailable", error);
        }
        finally
        {
            Directory.Delete(noNatives, true);
        }
    }

    private static (int Code, string Stdout, string Stderr) RunHost(params string[] args) => RunHostWith(null, args);

    private static (int Code, string Stdout, string Stderr) RunHostWith(IDictionary<string, string>? environment, params string[] args)
    {
        Assert.True(File.Exists(RepoPaths.HostDll), $"cvhost not built at {RepoPaths.HostDll}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root, // cvhost finds ChatVector.psd1 by walking up from here
        };
        start.ArgumentList.Add(RepoPaths.HostDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("CHATVECTOR_NATIVE_DIR"); // the module must find its own natives
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("cvhost did not finish within 2 minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
