using Xunit;

namespace ChatVector.Integration.Tests;

public sealed class ModuleImportTests(ModuleSessionFixture fixture) : IClassFixture<ModuleSessionFixture>
{
    private readonly ModuleSession _session = fixture.Session;

    [Fact]
    public void Import_exposes_Get_ChatVectorRuntime()
    {
        var r = _session.Run("Get-Command -Module ChatVector | ForEach-Object Name");
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.Contains("Get-ChatVectorRuntime", r.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Runtime_self_test_passes_in_the_real_engine()
    {
        var r = _session.Run("Get-ChatVectorRuntime");
        Assert.False(r.HadErrors, r.ErrorText);
        var info = Assert.Single(r.Output);
        Assert.Equal("ChatVector.PowerShell.Output.RuntimeInfo", info.TypeNames[0]);
        Assert.True((bool)info.Properties["SelfTestPassed"].Value, $"SelfTest: {info.Properties["SelfTest"].Value}");
        Assert.Equal(22.5f, (float)info.Properties["SelfTestValue"].Value);
        Assert.Equal("cpu", info.Properties["Device"].Value?.ToString(), ignoreCase: true);
        // Loaded from the module's own deps folder, not the NuGet cache.
        Assert.Equal(Path.GetFullPath(RepoPaths.DepsDir), Path.GetFullPath((string)info.Properties["NativeDirectory"].Value));
    }

    [Fact]
    public void Core_and_TorchSharp_load_in_the_module_context_not_the_default_one()
    {
        var r = _session.Run(
            "$null = Get-ChatVectorRuntime; " + // Core and TorchSharp load on first use, not at import
            "[System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'ChatVector.Core','TorchSharp' } | " +
            "ForEach-Object { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name }");
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.NotEmpty(r.Output);
        Assert.All(r.Output, o => Assert.Equal("ChatVector.Dependencies", o.ToString()));
    }

    [Fact]
    public void Unknown_device_is_a_terminating_InvalidDevice_error()
    {
        var r = _session.Run("Get-ChatVectorRuntime -Device tpu");
        var error = Assert.Single(r.Errors);
        Assert.StartsWith("InvalidDevice,", error.FullyQualifiedErrorId);
    }

    [Fact]
    public void Missing_cuda_device_says_so()
    {
        var r = _session.Run("Get-ChatVectorRuntime -Device cuda:7");
        var error = Assert.Single(r.Errors);
        Assert.StartsWith("TorchRuntimeUnavailable,", error.FullyQualifiedErrorId);
        Assert.Matches("CPU-only|not present", error.Exception.Message);
    }

    [Fact]
    public void Session_captures_warning_and_verbose_streams()
    {
        const string script = "function f { [CmdletBinding()] param() $PSCmdlet.WriteWarning('w'); $PSCmdlet.WriteVerbose('v'); 1 }; f";
        var quiet = _session.Run(script);
        var loud = _session.Run(script, verbose: true);
        Assert.Single(quiet.Warnings);
        Assert.Empty(quiet.Verbose);
        Assert.Equal("v", Assert.Single(loud.Verbose).Message);
        Assert.Equal(1, (int)Assert.Single(loud.Output).BaseObject);
    }
}

public sealed class HelpTests(ModuleSessionFixture fixture) : IClassFixture<ModuleSessionFixture>
{
    [Theory]
    [InlineData("Get-SafeTensor", "Lists the tensors")]
    [InlineData("Add-ChatVector", "Adds chat vectors")]
    [InlineData("Export-SafeTensor", "Writes the tensor handles")]
    [InlineData("Measure-ChatVector", "Measures tensors")]
    public void Get_Help_reads_the_module_help(string command, string synopsisStart)
    {
        var r = fixture.Session.Run("(Get-Help $c).Synopsis", new Dictionary<string, object> { ["c"] = command });
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.StartsWith(synopsisStart, r.Output.Single().ToString());
    }
}
