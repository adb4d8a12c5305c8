using Xunit;

namespace ChatVector.Integration.Tests;

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
