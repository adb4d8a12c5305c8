using System.Reflection;
using System.Reflection.Emit;

namespace ChatVector.Core.Tests.Architecture;

/// <summary>
/// What each type of an assembly refers to, read from the compiled code rather than the source: base types,
/// interfaces, fields, signatures, locals and every type, method and field named in a method body (lambdas,
/// iterators and async state machines count for the type that declares them). A <c>using</c> line, a
/// <c>cref</c> or a fully qualified name in a comment is no reference; a call through a qualified name is.
/// </summary>
internal static class CoreReferences
{
    /// <summary>One reference: the type that holds it (outermost declaring type), the type it names, and the member used, if any.</summary>
    public readonly record struct Reference(Type From, Type To, string? Member)
    {
        public override string ToString() => $"{From.FullName} uses {To.FullName}{(Member is null ? "" : "." + Member)}";
    }

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Every reference from a type of <paramref name="assembly"/> to any type, duplicates removed.</summary>
    public static IReadOnlyList<Reference> Of(Assembly assembly) =>
        assembly.GetTypes().SelectMany(type => Of(type).Select(r => r with { From = Outermost(type) })).Distinct().ToList();

    /// <summary>The references of one type's own declarations and code (not those of its nested types).</summary>
    public static IEnumerable<Reference> Of(Type type)
    {
        var named = new List<(Type Type, string? Member)>();
        void Add(Type? t, string? member = null)
        {
            if (t is not null) named.Add((t, member));
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        if (type.IsGenericTypeDefinition)
            foreach (var c in type.GetGenericArguments().SelectMany(a => a.GetGenericParameterConstraints())) Add(c);
        foreach (var field in type.GetFields(Declared)) Add(field.FieldType);
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            foreach (var p in method.GetParameters()) Add(p.ParameterType);
            if (method is MethodInfo mi) Add(mi.ReturnType);
            MethodBody? body;
            try { body = method.GetMethodBody(); }
            catch (Exception e) when (e is BadImageFormatException or NotSupportedException) { body = null; }
            if (body is null) continue;
            foreach (var local in body.LocalVariables) Add(local.LocalType);
            foreach (var member in MembersIn(method, body))
                switch (member)
                {
                    case Type t: Add(t); break;
                    case MethodBase m:
                        Add(m.DeclaringType, m.Name);
                        if (m.IsGenericMethod) foreach (var a in m.GetGenericArguments()) Add(a);
                        break;
                    case FieldInfo f: Add(f.DeclaringType, f.Name); break;
                }
        }
        foreach (var (t, member) in named)
            foreach (var part in Expand(t))
                yield return new Reference(type, part, ReferenceEquals(part, t) ? member : null);
    }

    /// <summary>The type itself, its element type and generic arguments, each as its generic definition where it has one.</summary>
    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.IsGenericParameter) yield break;
        if (type.HasElementType)
        {
            foreach (var t in Expand(type.GetElementType()!)) yield return t;
            yield break;
        }
        yield return type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
            foreach (var t in type.GetGenericArguments().SelectMany(Expand)) yield return t;
    }

    public static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer) type = outer;
        return type;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The types, methods and fields a method body's instructions name.</summary>
    private static IEnumerable<MemberInfo> MembersIn(MethodBase method, MethodBody body)
    {
        var il = body.GetILAsByteArray() ?? [];
        var typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    MemberInfo? member;
                    try { member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArguments, methodArguments); }
                    catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException) { member = null; }
                    if (member is not null) yield return member;
                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                default: i += 4; break; // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
            }
        }
    }
}
