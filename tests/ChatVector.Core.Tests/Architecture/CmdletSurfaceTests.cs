using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Xunit;

namespace ChatVector.Core.Tests.Architecture;

/// <summary>
/// The cmdlet assembly loads in PowerShell's context and binds PowerShell's Newtonsoft.Json; Core and its
/// TorchSharp/Newtonsoft load in the module's own context. A Newtonsoft type in a Core member the cmdlets
/// can reach is therefore a different type on each side. This reads which Core types the built
/// ChatVector.PowerShell.dll references (its metadata, not its source) and fails on any Newtonsoft type in
/// their public members, and on any TorchSharp type not in the documented list below.
/// </summary>
public sealed class CmdletSurfaceTests
{
    private static readonly Assembly Core = typeof(ChatVector.Core.Models.StoredModel).Assembly;

    /// <summary>TorchSharp in the surface on purpose: what libtorch computes with. The cmdlet layer passes
    /// these through without naming their types (a PowerShell user may hold a tensor, not name its type).</summary>
    private static readonly HashSet<string> AllowedTorchMembers = new(StringComparer.Ordinal)
    {
        "ChatVector.Core.Tensors.ITensorSource.ReadChunk",      // a chunk of values as a 1-D tensor
        "ChatVector.Core.Tensors.ComputeContext.Device",        // the device chunks are computed on
        "ChatVector.Core.Tensors.ComputeContext.get_Device",
    };

    private static string CmdletAssemblyPath => Path.Combine(TestPaths.RepoRoot, "module", "bin", "ChatVector.PowerShell.dll");

    /// <summary>Full names of the Core types the cmdlet assembly's metadata refers to.</summary>
    private static IReadOnlyList<Type> CoreTypesUsedByCmdlets()
    {
        Assert.True(File.Exists(CmdletAssemblyPath), $"{CmdletAssemblyPath} missing: build the solution first");
        using var stream = File.OpenRead(CmdletAssemblyPath);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var types = new List<Type>();
        foreach (var handle in reader.TypeReferences)
        {
            var name = FullName(reader, handle, out var scope);
            if (scope.Kind != HandleKind.AssemblyReference) continue;
            var assembly = reader.GetString(reader.GetAssemblyReference((AssemblyReferenceHandle)scope).Name);
            if (assembly != Core.GetName().Name) continue;
            types.Add(Core.GetType(name, throwOnError: true)!);
        }
        return types;
    }

    /// <summary>"Namespace.Outer+Inner" of a type reference, and the scope of its outermost type.</summary>
    private static string FullName(MetadataReader reader, TypeReferenceHandle handle, out EntityHandle scope)
    {
        var reference = reader.GetTypeReference(handle);
        var name = reader.GetString(reference.Name);
        if (reference.ResolutionScope.Kind == HandleKind.TypeReference)
            return FullName(reader, (TypeReferenceHandle)reference.ResolutionScope, out scope) + "+" + name;
        scope = reference.ResolutionScope;
        var ns = reader.GetString(reference.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Every type a member's signature names, generic arguments and element types included.</summary>
    private static IEnumerable<Type> TypesIn(MemberInfo member) => member switch
    {
        MethodBase m => m.GetParameters().Select(p => p.ParameterType)
            .Concat(m is MethodInfo mi ? [mi.ReturnType] : [])
            .Concat(m.IsGenericMethodDefinition ? m.GetGenericArguments().SelectMany(a => a.GetGenericParameterConstraints()) : []),
        PropertyInfo p => [p.PropertyType, .. p.GetIndexParameters().Select(i => i.ParameterType)],
        FieldInfo f => [f.FieldType],
        EventInfo e => [e.EventHandlerType!],
        Type nested => [nested],
        _ => [],
    };

    private static IEnumerable<Type> Expand(Type type)
    {
        yield return type;
        if (type.HasElementType)
            foreach (var t in Expand(type.GetElementType()!)) yield return t;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
            foreach (var t in type.GetGenericArguments().SelectMany(Expand)) yield return t;
    }

    /// <summary>Listed itself, or an implementation of a listed interface member.</summary>
    private static bool IsAllowedTorchMember(Type type, string name, string key) =>
        AllowedTorchMembers.Contains(key) || type.GetInterfaces().Any(i => AllowedTorchMembers.Contains($"{i.FullName}.{name}"));

    /// <summary>"Type.Member: ForeignType" for each public member of <paramref name="type"/> naming a
    /// Newtonsoft type, or a TorchSharp type outside <see cref="AllowedTorchMembers"/>.</summary>
    internal static IEnumerable<string> Violations(Type type)
    {
        const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy;
        var members = type.GetMembers(Public).AsEnumerable();
        if (type.IsInterface) members = members.Concat(type.GetInterfaces().SelectMany(i => i.GetMembers(Public)));
        var signatures = members.Select(m => (Member: m, Types: TypesIn(m)))
            .Append((Member: (MemberInfo)type, Types: [.. type.GetInterfaces(), .. type.BaseType is { } b ? [b] : Array.Empty<Type>()]));
        foreach (var (member, used) in signatures)
            foreach (var foreign in used.SelectMany(Expand).Select(t => t.Namespace ?? "").Distinct())
            {
                var key = $"{member.DeclaringType?.FullName ?? type.FullName}.{member.Name}";
                if (foreign.StartsWith("Newtonsoft", StringComparison.Ordinal)
                    || (foreign.StartsWith("TorchSharp", StringComparison.Ordinal) && !IsAllowedTorchMember(type, member.Name, key)))
                    yield return $"{key}: {foreign}";
            }
    }

    [Fact]
    public void Core_types_the_cmdlets_use_expose_no_Newtonsoft_and_only_documented_TorchSharp_types()
    {
        var used = CoreTypesUsedByCmdlets();
        Assert.NotEmpty(used); // the scan sees the real references
        var violations = used.SelectMany(Violations).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(violations.Count == 0, "Core members visible to the cmdlets name foreign types:\n" + string.Join("\n", violations));
    }

    private sealed class Leaky
    {
        public Newtonsoft.Json.Linq.JObject? Json { get; set; }
        public IReadOnlyList<TorchSharp.torch.Tensor> Tensors(Dictionary<string, Newtonsoft.Json.Linq.JToken[]> map) => [];
    }

    [Fact]
    public void The_scan_finds_Newtonsoft_and_TorchSharp_in_properties_parameters_and_generic_arguments()
    {
        var found = Violations(typeof(Leaky)).ToList();
        Assert.Contains(found, v => v.EndsWith("Leaky.Json: Newtonsoft.Json.Linq", StringComparison.Ordinal));
        Assert.Contains(found, v => v.EndsWith("Leaky.get_Json: Newtonsoft.Json.Linq", StringComparison.Ordinal));
        Assert.Contains(found, v => v.EndsWith("Leaky.Tensors: Newtonsoft.Json.Linq", StringComparison.Ordinal));
        Assert.Contains(found, v => v.EndsWith("Leaky.Tensors: TorchSharp", StringComparison.Ordinal));
    }
}
