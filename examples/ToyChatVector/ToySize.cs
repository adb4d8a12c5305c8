namespace ToyChatVector;

/// <summary>How big a run is: the model, each phase's steps, and the evaluation sets.</summary>
public sealed record ToySize(
    string Name, int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, int Context,
    Phase Base, Phase Chat, Phase Cp, Phase CpFt, int FtExamples, int Prompts, int TextLines, int ChatTextRows = 16)
{
    /// <summary>The README experiment (≤ 20 min on 2 cores, with the sweep through the cmdlets).</summary>
    public static ToySize Full { get; } = new("full", 64, 176, 2, 4, 2, 48,
        new Phase("base", 2000, 3e-3, 32), new Phase("chat", 1000, 1e-3, 32), new Phase("cp", 1000, 1e-3, 32),
        new Phase("cp+FT", 40, 3e-4, 8), FtExamples: 40, Prompts: 200, TextLines: 40);

    /// <summary>The CI test's run: the full training (fewer steps were tried: 800/600/400/20 gave no answer in
    /// format at any ratio for seed 3), half the evaluation sets.</summary>
    public static ToySize Ci { get; } = Full with { Name = "ci", Prompts = 100, TextLines = 20 };

    /// <summary>The same run with every phase's steps multiplied by <paramref name="factor"/> (quick trials).</summary>
    public ToySize Scaled(double factor) => factor == 1 ? this : this with
    {
        Name = $"{Name}x{factor}",
        Base = Base with { Steps = Math.Max(1, (int)(Base.Steps * factor)) },
        Chat = Chat with { Steps = Math.Max(1, (int)(Chat.Steps * factor)) },
        Cp = Cp with { Steps = Math.Max(1, (int)(Cp.Steps * factor)) },
        CpFt = CpFt with { Steps = Math.Max(1, (int)(CpFt.Steps * factor)) },
    };

    public static ToySize Parse(string name) => name switch
    {
        "full" => Full,
        "ci" => Ci,
        _ => throw new ArgumentException($"Unknown size '{name}': use full or ci."),
    };
}
