using System.Buffers.Binary;
using System.Management.Automation;
using System.Text.Json.Nodes;
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
    public void Get_ChatVector_Add_ChatVector_Export_SafeTensor_writes_a_complete_correct_model()
    {
        using var trio = new TrioFolders();
        var r = _session.Run(
            "Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio 0.5 -SpecialTokenMap @{ 42 = 5 } | " +
            "Export-SafeTensor ([IO.Path]::Combine($root, 'merged')) -MaxShardSize 6KB -Checksum",
            trio.Vars(), verbose: true);
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.Contains(r.Verbose, v => v.Message.Contains("extended vocabulary"));
        var merged = trio.P("merged");

        var written = IndependentSafeTensorReader.ReadFolder(merged);
        Assert.True(Directory.GetFiles(merged, "*.safetensors").Length > 1);
        Assert.Equal(trio.Cp.Keys.Order(), written.Keys.Order());
        foreach (var (name, cp) in trio.Cp)
        {
            var bytes = written[name].File.Bytes(name);
            bool vocab = name is "model.embed_tokens.weight" or "lm_head.weight";
            for (int i = 0; i < cp.Length; i++)
            {
                var actual = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2));
                ushort expected = vocab && i / 16 == 42 ? Bf16.FromFloat(trio.Chat[name][5 * 16 + i % 16])
                    : vocab && i >= 40 * 16 ? Bf16.FromFloat(cp[i])
                    : Bf16.FromFloat(cp[i] + 0.5f * (trio.Chat[name][i] - trio.Base[name][i]));
                Assert.True(Bf16.UlpDistance(actual, expected) <= 1, $"{name}[{i}]");
            }
        }
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(merged, "tokenizer_config.json")))!;
        Assert.Equal(TrioFolders.Template, (string?)tokenizer["chat_template"]);
        Assert.Equal("<|im_end|>", (string?)tokenizer["eos_token"]);
        Assert.True(File.Exists(Path.Combine(merged, "config.json")));
        Assert.True(File.Exists(Path.Combine(merged, "model.safetensors.index.json")));
        Assert.Contains("Chat Vector", File.ReadAllText(Path.Combine(merged, "README.md")));

        var check = _session.Run("Test-SafeTensor $m -Data", new Dictionary<string, object> { ["m"] = merged });
        Assert.False(check.HadErrors, check.ErrorText);
        var report = Assert.Single(check.Output);
        Assert.True((bool)report.Properties["Valid"].Value);
        Assert.Equal(trio.Cp.Count, (int)report.Properties["ChecksumsVerified"].Value);
    }

    [Fact]
    public void A_saved_vector_merges_bit_identically_to_the_live_pipeline()
    {
        using var trio = new TrioFolders();
        var r = _session.Run(
            "Get-ChatVector -Base $base -Chat $chat | Export-SafeTensor ([IO.Path]::Combine($root, 'cv')) -MaxShardSize 8KB | Out-Null\n" +
            "Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio 0.5 | Export-SafeTensor ([IO.Path]::Combine($root, 'live')) | Out-Null\n" +
            "Get-SafeTensor ([IO.Path]::Combine($root, 'cv')) | Add-ChatVector -Model $cp -Ratio 0.5 | Export-SafeTensor ([IO.Path]::Combine($root, 'saved')) | Out-Null",
            trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        var cv = IndependentSafeTensorReader.ReadFolder(trio.P("cv"));
        Assert.All(cv.Values, t => Assert.Equal("F32", t.Entry.DType));
        var metadata = cv.Values.First().File.Metadata;
        Assert.Equal(TrioFolders.Template, (string?)JsonNode.Parse(metadata["chatvector.chat_template"]));
        Assert.EndsWith("chat", metadata["chatvector.chat"]);

        var live = IndependentSafeTensorReader.ReadFolder(trio.P("live"));
        var saved = IndependentSafeTensorReader.ReadFolder(trio.P("saved"));
        Assert.All(live, kv => Assert.True(kv.Value.File.Bytes(kv.Key).SequenceEqual(saved[kv.Key].File.Bytes(kv.Key)), kv.Key));
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(trio.P("saved"), "tokenizer_config.json")))!;
        Assert.Equal(TrioFolders.Template, (string?)tokenizer["chat_template"]);
    }

    [Fact]
    public void Get_SafeTensor_subsets_and_reshards_and_the_result_reads_back()
    {
        using var trio = new TrioFolders();
        var r = _session.Run(
            "Get-SafeTensor $cp -Name 'model.layers.0.*' | Export-SafeTensor ([IO.Path]::Combine($root, 'layer0.safetensors')) | Out-Null\n" +
            "Get-SafeTensor $cp | Export-SafeTensor ([IO.Path]::Combine($root, 'resharded')) -MaxShardSize 3KB | Out-Null\n" +
            "Get-SafeTensor ([IO.Path]::Combine($root, 'layer0.safetensors'))", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.Equal(9, r.Output.Count);
        Assert.All(r.Output, o => Assert.StartsWith("model.layers.0.", (string)o.Properties["Name"].Value));
        var resharded = IndependentSafeTensorReader.ReadFolder(trio.P("resharded"));
        Assert.True(Directory.GetFiles(trio.P("resharded"), "*.safetensors").Length >= 4);
        Assert.All(trio.Cp, kv => Assert.True(resharded[kv.Key].File.Bytes(kv.Key).SequenceEqual(LlamaModelBuilder.Bf16Bytes(kv.Value)), kv.Key));
        Assert.True(File.Exists(Path.Combine(trio.P("resharded"), "tokenizer.json")));
    }

    [Fact]
    public void Get_SafeTensor_takes_paths_by_property_name_and_shows_handle_properties()
    {
        using var trio = new TrioFolders();
        var r = _session.Run("[pscustomobject]@{ FullName = $cp } | Get-SafeTensor -Name model.norm.weight", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        var handle = Assert.Single(r.Output);
        Assert.Equal("BF16", handle.Properties["DType"].Value);
        Assert.Equal(new long[] { 16 }, ((System.Collections.IEnumerable)handle.Properties["Shape"].Value).Cast<long>());
        Assert.Equal(32L, handle.Properties["Bytes"].Value);
        Assert.EndsWith(".safetensors", (string)handle.Properties["File"].Value);
    }

    [Fact]
    public void WhatIf_writes_nothing_and_an_existing_target_needs_Force()
    {
        using var trio = new TrioFolders();
        var r = _session.Run("Get-SafeTensor $cp | Export-SafeTensor ([IO.Path]::Combine($root, 'out')) -WhatIf", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.False(Directory.Exists(trio.P("out")));

        Directory.CreateDirectory(trio.P("out"));
        var refused = _session.Run("Get-SafeTensor $cp | Export-SafeTensor ([IO.Path]::Combine($root, 'out'))", trio.Vars());
        Assert.Contains(refused.Errors, e => e.Exception.Message.Contains("-Force") && e.CategoryInfo.Category == ErrorCategory.WriteError);
        var forced = _session.Run("Get-SafeTensor $cp | Export-SafeTensor ([IO.Path]::Combine($root, 'out')) -Force", trio.Vars());
        Assert.False(forced.HadErrors, forced.ErrorText);
        Assert.True(File.Exists(Path.Combine(trio.P("out"), "config.json")));
    }

    [Fact]
    public void Export_reports_progress_in_tensors_and_bytes()
    {
        using var trio = new TrioFolders();
        var r = _session.Run("Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp | Export-SafeTensor ([IO.Path]::Combine($root, 'p'))", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.NotEmpty(r.Progress);
        Assert.Contains(r.Progress, p => p.StatusDescription.Contains(" tensors, ") && p.StatusDescription.Contains(" of "));
        Assert.Equal(ProgressRecordType.Completed, r.Progress[^1].RecordType);
    }

    [Fact]
    public void An_empty_pipeline_writes_nothing_and_says_so()
    {
        using var trio = new TrioFolders();
        var r = _session.Run("Get-SafeTensor $cp -Name 'no.such.*' | Export-SafeTensor ([IO.Path]::Combine($root, 'empty'))", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.Contains(r.Warnings, w => w.Message.Contains("No tensors arrived"));
        Assert.False(Directory.Exists(trio.P("empty")));
    }

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

    [Fact]
    public void Tensors_in_only_one_model_are_a_warning_naming_them()
    {
        using var trio = new TrioFolders();
        var tied = trio.P("tied");
        new LlamaModelBuilder { Seed = 6, Vocab = 40, Tied = true }.Write(tied);
        var r = _session.Run("Get-ChatVector -Base $base -Chat $tied | ForEach-Object Name", trio.Vars(("tied", tied)));
        Assert.Contains(r.Warnings, w => w.Message.Contains("only in the base model") && w.Message.Contains("lm_head.weight"));
        Assert.DoesNotContain("lm_head.weight", r.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Bad_files_give_errors_naming_file_and_rule_and_Test_SafeTensor_reports_without_throwing()
    {
        using var trio = new TrioFolders();
        var bad = trio.P("bad.safetensors");
        File.WriteAllBytes(bad, [1, 2, 3]);
        var pickle = trio.P("pickle");
        Directory.CreateDirectory(pickle);
        File.WriteAllBytes(Path.Combine(pickle, "pytorch_model.bin"), [0x80, 0x02]);

        var get = _session.Run("Get-SafeTensor $bad", trio.Vars(("bad", bad)));
        var error = Assert.Single(get.Errors);
        Assert.Equal("FileTooShort,ChatVector.PowerShell.Cmdlets.GetSafeTensorCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Contains("bad.safetensors", error.Exception.Message);

        var refused = _session.Run("Get-SafeTensor $p", trio.Vars(("p", pickle)));
        Assert.Contains(refused.Errors, e => e.FullyQualifiedErrorId.StartsWith("PickleWeightsRefused") && e.Exception.Message.Contains("arbitrary code"));

        var test = _session.Run("Test-SafeTensor $bad, $p, $cp; Test-SafeTensor $bad -Quiet", trio.Vars(("bad", bad), ("p", pickle)));
        Assert.False(test.HadErrors, test.ErrorText);
        Assert.Equal(4, test.Output.Count);
        Assert.False((bool)test.Output[0].Properties["Valid"].Value);
        Assert.Contains("FileTooShort", test.Output[0].Properties["Problems"].Value is System.Collections.IEnumerable a ? a.Cast<object>().Select(o => PSObject.AsPSObject(o).Properties["Rule"].Value.ToString()) : []);
        Assert.False((bool)test.Output[1].Properties["Valid"].Value);
        Assert.True((bool)test.Output[2].Properties["Valid"].Value);
        Assert.False((bool)test.Output[3].BaseObject);
    }

    [Fact]
    public void Measure_ChatVector_matches_statistics_computed_independently()
    {
        using var trio = new TrioFolders();
        const string name = "model.layers.1.mlp.down_proj.weight";
        var r = _session.Run($"Get-ChatVector -Base $base -Chat $chat -Name '{name}' | Measure-ChatVector -Reference $chat", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        var m = Assert.Single(r.Output);
        var v = trio.Chat[name].Zip(trio.Base[name], (c, b) => (double)(c - b)).ToArray();
        double l2 = Math.Sqrt(v.Sum(x => x * x));
        double mean = v.Average();
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        double baseNorm = Math.Sqrt(trio.Base[name].Sum(x => (double)x * x));
        double chatNorm = Math.Sqrt(trio.Chat[name].Sum(x => (double)x * x));
        double cosine = v.Zip(trio.Chat[name], (x, c) => x * c).Sum() / (l2 * chatNorm);
        Assert.Equal(l2, (double)m.Properties["L2Norm"].Value, 6);
        Assert.Equal(mean, (double)m.Properties["Mean"].Value, 6);
        Assert.Equal(std, (double)m.Properties["Std"].Value, 6);
        Assert.Equal(v.Max(x => Math.Abs(x)), (double)m.Properties["MaxAbs"].Value, 6);
        Assert.Equal(l2 / baseNorm, (double)m.Properties["RelativeNorm"].Value!, 6);
        Assert.Equal(cosine, (double)m.Properties["Cosine"].Value!, 6);

        var summary = _session.Run("Get-ChatVector -Base $base -Chat $chat | Measure-ChatVector -Summary", trio.Vars());
        Assert.False(summary.HadErrors, summary.ErrorText);
        Assert.Equal(["Layer", "Layer", "Layer", "Total"], summary.Output.Select(o => (string)o.Properties["Scope"].Value).Order());
    }

    [Fact]
    public void A_handle_loads_as_a_torch_tensor_of_its_shape_and_values()
    {
        using var trio = new TrioFolders();
        var r = _session.Run("$t = (Get-SafeTensor $cp -Name model.layers.0.self_attn.q_proj.weight).ToTensor('cpu'); " +
                             "$t.shape; $t.dtype.ToString(); $t.float().flatten()[17].item[float]()", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        Assert.Equal(new object[] { 16L, 16L, "BFloat16" }, r.Output.Take(3).Select(o => o.BaseObject).ToArray());
        Assert.Equal(trio.Cp["model.layers.0.self_attn.q_proj.weight"][17], (float)r.Output[3].BaseObject);
    }

    [Fact]
    public void Show_SafeTensor_previews_the_first_values()
    {
        using var trio = new TrioFolders();
        var r = _session.Run("Get-SafeTensor $cp -Name model.norm.weight | Show-SafeTensor -Count 4", trio.Vars());
        Assert.False(r.HadErrors, r.ErrorText);
        var preview = Assert.Single(r.Output);
        Assert.Equal(trio.Cp["model.norm.weight"].Take(4).Select(f => (double)f), ((System.Collections.IEnumerable)preview.Properties["First"].Value).Cast<double>());
        Assert.Equal(trio.Cp["model.norm.weight"].Average(f => (double)f), (double)preview.Properties["Mean"].Value, 6);
    }
}
