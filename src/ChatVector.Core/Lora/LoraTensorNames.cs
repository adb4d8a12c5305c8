namespace ChatVector.Core.Lora;

/// <summary>What a tensor of a PEFT adapter file holds.</summary>
public enum LoraTensorKind
{
    /// <summary><c>lora_A.weight</c> of a linear module: (r, in).</summary>
    LinearA,
    /// <summary><c>lora_B.weight</c> of a linear module: (out, r).</summary>
    LinearB,
    /// <summary><c>lora_embedding_A</c> of an embedding: (r, vocabulary).</summary>
    EmbeddingA,
    /// <summary><c>lora_embedding_B</c> of an embedding: (hidden, r).</summary>
    EmbeddingB,
    /// <summary><c>lora_B.bias</c> (PEFT's lora_bias): a learned bias change.</summary>
    LoraBias,
    /// <summary><c>lora_magnitude_vector</c>: DoRA's per-row magnitudes.</summary>
    DoraMagnitude,
    /// <summary>A whole tensor of the model (modules_to_save, trained biases, saved embeddings), stored under the model's own name.</summary>
    Whole,
}

/// <summary>One adapter tensor's name taken apart: what it holds, the model's module it belongs to, and the model tensor it changes.</summary>
/// <param name="Module">The module's name in the model (<c>model.layers.0.self_attn.q_proj</c>).</param>
/// <param name="Target">The model tensor the adapter changes or replaces (<c>model.layers.0.self_attn.q_proj.weight</c>).</param>
public sealed record LoraTensorName(LoraTensorKind Kind, string Module, string Target);

/// <summary>
/// The names of a PEFT adapter file (the adapter's name, ".default", already removed as PEFT saves them): every factor is
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c> and <c>...lora_B.weight</c>, an embedding's
/// <c>...lora_embedding_A</c> and <c>...lora_embedding_B</c>, a whole tensor the model's own name after the prefix. Both
/// directions: <see cref="Parse"/> for readers, the builders for writers.
/// </summary>
public static class LoraTensorNames
{
    public const string Prefix = "base_model.model.";
    private const string LinearASuffix = ".lora_A.weight";
    private const string LinearBSuffix = ".lora_B.weight";
    private const string EmbeddingASuffix = ".lora_embedding_A";
    private const string EmbeddingBSuffix = ".lora_embedding_B";
    private const string LoraBiasSuffix = ".lora_B.bias";
    private const string MagnitudeSuffix = ".lora_magnitude_vector";
    private const string WeightSuffix = ".weight";
    /// <summary>PEFT's wrapper keeps the wrapped layer as <c>base_layer</c>; a whole tensor saved under it is the model's tensor.</summary>
    private const string BaseLayerPart = ".base_layer.";

    private static readonly (string Suffix, LoraTensorKind Kind)[] Factors =
    [
        (LinearASuffix, LoraTensorKind.LinearA), (LinearBSuffix, LoraTensorKind.LinearB),
        (EmbeddingASuffix, LoraTensorKind.EmbeddingA), (EmbeddingBSuffix, LoraTensorKind.EmbeddingB),
        (LoraBiasSuffix, LoraTensorKind.LoraBias), (MagnitudeSuffix, LoraTensorKind.DoraMagnitude),
        (MagnitudeSuffix + WeightSuffix, LoraTensorKind.DoraMagnitude),
    ];

    /// <summary>Parts of a name that only a PEFT wrapper's own tensors have: a whole tensor under such a name is not the model's.</summary>
    private static readonly string[] WrapperParts = [".lora_A.", ".lora_B.", ".lora_embedding_", ".lora_magnitude_vector", ".modules_to_save.", ".original_module."];

    /// <summary>The parts of <paramref name="name"/>, or null when it is not a name of PEFT's LoRA layout.</summary>
    public static LoraTensorName? Parse(string name)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || name.Length == Prefix.Length) return null;
        var rest = name[Prefix.Length..];
        foreach (var (suffix, kind) in Factors)
            if (rest.EndsWith(suffix, StringComparison.Ordinal) && rest.Length > suffix.Length)
            {
                var module = rest[..^suffix.Length];
                return new LoraTensorName(kind, module, kind == LoraTensorKind.LoraBias ? module + ".bias" : module + WeightSuffix);
            }
        if (WrapperParts.Any(part => rest.Contains(part, StringComparison.Ordinal))) return null;
        var target = rest.Replace(BaseLayerPart, ".", StringComparison.Ordinal);
        int dot = target.LastIndexOf('.');
        return dot <= 0 ? null : new LoraTensorName(LoraTensorKind.Whole, target[..dot], target);
    }

    public static string LinearA(string module) => Prefix + module + LinearASuffix;
    public static string LinearB(string module) => Prefix + module + LinearBSuffix;
    public static string EmbeddingA(string module) => Prefix + module + EmbeddingASuffix;
    public static string EmbeddingB(string module) => Prefix + module + EmbeddingBSuffix;
    /// <summary>A whole tensor (modules_to_save, a bias) under the model's own name <paramref name="target"/>.</summary>
    public static string Whole(string target) => Prefix + target;

    /// <summary>The module a model weight belongs to (<c>x.weight</c> → <c>x</c>), or null when the name is not a weight's.</summary>
    public static string? ModuleOfWeight(string target) =>
        target.EndsWith(WeightSuffix, StringComparison.Ordinal) && target.Length > WeightSuffix.Length ? target[..^WeightSuffix.Length] : null;
}
