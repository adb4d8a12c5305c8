using ChatVector.Core.Kernels;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit;

namespace ChatVector.Core.Tests.Architecture;

/// <summary>
/// Which layer of Core may use which, read from the compiled code (<see cref="CoreReferences"/>): a layer is a
/// namespace of ChatVector.Core, one per folder, and it may name types only of its own and of the layers its row
/// lists. The same table is in docs/ARCHITECTURE.md ("Which layer may use which"), and a test keeps the two equal.
/// A new folder needs a row; a new use across layers needs the table's consent, so a dependency upward (the format
/// reaching into the export, a method reaching into the output policy) fails here with the type and the member
/// that made it, instead of settling into the tree.
/// </summary>
public sealed partial class LayerDependencyTests
{
    /// <summary>TorchSharp, as a layer of its own: the layers that may not name it work where libtorch cannot load.</summary>
    private const string Libtorch = "libtorch";

    /// <summary>
    /// Each layer and the layers it may use, from the bottom up: a row names only rows above it, so the layers form no
    /// cycle. <see cref="Libtorch"/> marks the layers that compute with libtorch; inspection and validation
    /// (Format, Models, Integrity, Validation) and the machinery under them do not.
    /// </summary>
    internal static readonly IReadOnlyList<(string Layer, string[] MayUse)> Table =
    [
        ("Settings", []),
        ("IO", ["Settings"]),
        ("Format", ["IO"]),
        ("Models", ["Format"]),
        ("Runtime", ["Settings", Libtorch]),
        ("Kernels", []),
        ("Tensors", ["Settings", "IO", "Format", "Models", "Runtime", "Kernels", Libtorch]),
        ("Integrity", ["Format"]),
        ("Tokenization", ["Format"]),
        ("Streaming", ["Settings", "IO", "Format", "Tensors"]),
        ("Sparsify", ["Format", "Tensors", "Kernels", Libtorch]),
        ("Merge", ["IO", "Format", "Models", "Tensors", "Tokenization", "Kernels", "Sparsify", Libtorch]),
        ("Methods", ["Format", "Tensors", "Kernels", "Sparsify", "Merge", Libtorch]),
        ("Lora", ["Format", "Models", "Tensors", "Kernels", "Merge", Libtorch]),
        ("Config", ["Format", "Models", "Tensors", "Tokenization", "Merge", "Methods", "Lora"]),
        ("Export", ["IO", "Format", "Models", "Tensors", "Integrity", "Streaming", "Merge", "Config"]),
        ("Validation", ["IO", "Format", "Models", "Integrity"]),
        ("Statistics", ["Format", "Models", "Tensors", "Merge", Libtorch]),
        ("Inference", ["Settings", "Models", "Tensors", "Runtime", "Tokenization", "Kernels", Libtorch]),
        ("LoraExport", ["IO", "Format", "Models", "Tensors", "Sparsify", "Merge", "Lora", "Export", Libtorch]),
    ];

    /// <summary>
    /// Types a layer may use although their layer is not in its row, each with the reason. Keep it short: an entry is
    /// a move not yet made.
    /// </summary>
    internal static readonly IReadOnlyList<(string Layer, string Type, string Why)> Exceptions =
    [
    ];

    private static readonly Assembly Core = typeof(ChatVector.Core.Models.StoredModel).Assembly;

    private const string CorePrefix = "ChatVector.Core.";

    /// <summary>The layer of a Core type (the first namespace part under ChatVector.Core), libtorch for TorchSharp's, else null.</summary>
    private static string? LayerOf(Type type)
    {
        if (type.Assembly.GetName().Name == "TorchSharp") return Libtorch;
        if (type.Assembly != Core || type.Namespace is not { } ns || !ns.StartsWith(CorePrefix, StringComparison.Ordinal)) return null;
        return ns[CorePrefix.Length..].Split('.')[0];
    }

    /// <summary>"From (layer) uses To.Member (layer)" for each reference the table does not allow.</summary>
    internal static IEnumerable<string> Violations(IEnumerable<CoreReferences.Reference> references, IReadOnlyList<(string Layer, string[] MayUse)> table)
    {
        var mayUse = table.ToDictionary(r => r.Layer, r => r.MayUse);
        var excepted = Exceptions.Select(e => (e.Layer, CorePrefix + e.Type)).ToHashSet();
        foreach (var reference in references)
        {
            if (LayerOf(reference.From) is not { } from || from == Libtorch) continue;
            if (LayerOf(reference.To) is not { } to || to == from) continue;
            if (excepted.Contains((from, CoreReferences.Outermost(reference.To).FullName!))) continue;
            var allowed = mayUse.GetValueOrDefault(from, []);
            if (!allowed.Contains(to))
                yield return $"{reference} ({from} -> {to}; {from} may use {(allowed.Length == 0 ? "nothing" : string.Join(", ", allowed))})";
        }
    }

    [Fact]
    public void Each_layer_of_Core_uses_only_the_layers_its_row_allows()
    {
        var violations = Violations(CoreReferences.Of(Core), Table).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(violations.Count == 0,
            "Core reaches across its layers where the table in LayerDependencyTests (and docs/ARCHITECTURE.md) does not allow it. " +
            "Move the code to the layer it belongs to, or, if the layering itself should change, change both tables and say why:\n" +
            string.Join("\n", violations));
    }

    [Fact]
    public void Every_namespace_of_Core_is_a_layer_of_the_table()
    {
        var layers = Core.GetTypes().Select(LayerOf).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        var missing = layers.Except(Table.Select(r => r.Layer)).ToList();
        Assert.True(missing.Count == 0, $"No row in the layer table for {string.Join(", ", missing)}: add one (here and in docs/ARCHITECTURE.md) saying what it may use.");
        var stale = Table.Select(r => r.Layer).Except(layers).ToList();
        Assert.True(stale.Count == 0, $"The layer table lists {string.Join(", ", stale)}, which Core no longer has.");
    }

    [Fact]
    public void The_table_is_ordered_bottom_up_so_the_layers_form_no_cycle()
    {
        var seen = new HashSet<string> { Libtorch };
        foreach (var (layer, mayUse) in Table)
        {
            var above = mayUse.Where(used => !seen.Contains(used)).ToList();
            Assert.True(above.Count == 0, $"{layer} may use {string.Join(", ", above)}, which come after it in the table: the layers would form a cycle.");
            Assert.True(seen.Add(layer), $"{layer} has two rows");
        }
    }

    [Fact]
    public void Core_knows_nothing_of_PowerShell()
    {
        var references = Core.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain("System.Management.Automation", references);
        Assert.DoesNotContain("ChatVector.PowerShell", references);
    }

    [Fact]
    public void The_cmdlets_reach_Core_only_through_its_public_API()
    {
        // Core's internals are open to its own tests only; to the cmdlet layer the compiler offers the public API.
        var friends = Core.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).ToList();
        Assert.Equal(["ChatVector.Core.Tests"], friends);
    }

    [Fact]
    public void The_table_in_ARCHITECTURE_md_is_this_table()
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "docs", "ARCHITECTURE.md"));
        int heading = Array.FindIndex(lines, l => l.StartsWith("### Which layer may use which", StringComparison.Ordinal));
        Assert.True(heading >= 0, "docs/ARCHITECTURE.md has no section 'Which layer may use which'");
        var documented = lines.Skip(heading + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Split('|')).Where(cells => cells.Length == 5 && Names(cells[1]).Count() == 1)
            .Select(cells => $"{Names(cells[1]).Single()}: {string.Join(", ", Names(cells[2]))} except {string.Join(", ", Names(cells[3]))}")
            .ToList();
        var expected = Table.Select(r => $"{r.Layer}: {string.Join(", ", r.MayUse)} except " +
            string.Join(", ", Exceptions.Where(e => e.Layer == r.Layer).Select(e => e.Type))).ToList();
        Assert.Equal(expected, documented);
    }

    /// <summary>The backticked names of a cell, in order.</summary>
    private static IEnumerable<string> Names(string cell) => BacktickedName().Matches(cell).Select(m => m.Groups[1].Value);

    [GeneratedRegex("`([A-Za-z.]+)`")]
    private static partial Regex BacktickedName();

    [Fact]
    public void Every_exception_is_still_used()
    {
        var references = CoreReferences.Of(Core).Select(r => (Layer: LayerOf(r.From), Type: CoreReferences.Outermost(r.To).FullName)).ToHashSet();
        foreach (var (layer, type, _) in Exceptions)
            Assert.True(references.Contains((layer, CorePrefix + type)), $"{layer} no longer uses {type}: remove its exception (here and in docs/ARCHITECTURE.md).");
    }

    /// <summary>Stand-ins for the scan's own test: a layer's code referring to others in each way the compiler can hide it.</summary>
    private static class Sample
    {
        public static long InALambda() => new Func<long>(() => ChatVector.Core.IO.AvailableMemory.Bytes() ?? 0)();

        public static IEnumerable<int> InAnIterator()
        {
            yield return ChatVector.Core.Settings.EnvironmentSettings.Parallelism;
        }

        public static int InASignature(ChatVector.Core.Format.TensorInfo tensor) => 0;

        public static Type InAGenericArgument() => typeof(List<ChatVector.Core.Models.StoredModel>);
    }

    [Fact]
    public void The_scan_sees_references_in_lambdas_iterators_signatures_and_generic_arguments()
    {
        var types = typeof(Sample).GetNestedTypes(BindingFlags.NonPublic).Prepend(typeof(Sample));
        var found = types.SelectMany(CoreReferences.Of).Select(r => r.To).ToHashSet();
        Assert.Contains(typeof(ChatVector.Core.IO.AvailableMemory), found);
        Assert.Contains(typeof(ChatVector.Core.Settings.EnvironmentSettings), found);
        Assert.Contains(typeof(ChatVector.Core.Format.TensorInfo), found);
        Assert.Contains(typeof(ChatVector.Core.Models.StoredModel), found);
    }

    [Fact]
    public void A_reference_the_table_does_not_allow_is_reported_with_its_type_and_member()
    {
        // Format's writer writes through IO's uncached stream: with a table where Format may use nothing, that is reported.
        var strict = Table.Select(r => r.Layer == "Format" ? (r.Layer, Array.Empty<string>()) : r).ToList();
        var violations = Violations(CoreReferences.Of(Core), strict).ToList();
        Assert.Contains(violations, v => v.StartsWith("ChatVector.Core.Format.SafeTensorWriter uses ChatVector.Core.IO.UncachedWriteStream.Over (Format -> IO;", StringComparison.Ordinal));
    }
}
