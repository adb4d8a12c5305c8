using System.Management.Automation;
using ChatVector.Tests.Shared;
using Xunit;

namespace ChatVector.Integration.Tests;

/// <summary>A base/chat/cp trio (cp with an extended vocabulary) written by the independent builder.</summary>
public sealed class TrioFolders : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("chatvector-ps-").FullName;
    public Dictionary<string, float[]> Base { get; }
    public Dictionary<string, float[]> Chat { get; }
    public Dictionary<string, float[]> Cp { get; }
    public const string Template = "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}";

    public TrioFolders()
    {
        Base = new LlamaModelBuilder { Seed = 11, Vocab = 40 }.Write(P("base"));
        Chat = new LlamaModelBuilder { Seed = 12, Vocab = 40, ChatTemplate = Template, EosToken = "<|im_end|>" }.Write(P("chat"));
        Cp = new LlamaModelBuilder { Seed = 13, Vocab = 44, Shards = 2 }.Write(P("cp"));
    }

    public string P(string name) => Path.Combine(Root, name);

    public Dictionary<string, object> Vars(params (string, object)[] extra)
    {
        var vars = new Dictionary<string, object> { ["base"] = P("base"), ["chat"] = P("chat"), ["cp"] = P("cp"), ["root"] = Root };
        foreach (var (k, v) in extra) vars[k] = v;
        return vars;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }
}

public sealed class PipelineTests(ModuleSessionFixture fixture) : IClassFixture<ModuleSessionFixture>
{
    private readonly ModuleSession _session = fixture.Session;

    [Fact]
    public void Shape_mismatch_is_a_non_terminating_error_naming_both_shapes()
    {
        using var trio = new TrioFolders();
        var wide = trio.P("wide");
        new LlamaModelBuilder { Seed = 5, Vocab = 40, Hidden = 8, Intermediate = 24 }.Write(wide);
        var r = _session.Run("Get-ChatVector -Base $base -Chat $wide -ErrorAction SilentlyContinue -ErrorVariable e | Out-Null; $e", trio.Vars(("wide", wide)));
        var error = r.Output.Select(o => o.BaseObject).OfType<ErrorRecord>().First(e => e.Exception.Message.Contains("q_proj"));
        Assert.Equal("ShapeMismatch,ChatVector.PowerShell.Cmdlets.GetChatVectorCommand", error.FullyQualifiedErrorId);
        Assert.Contains("[16, 16]", error.Exception.Message);
        Assert.Contains("[8, 8]", error.Exception.Message);
    }
}
