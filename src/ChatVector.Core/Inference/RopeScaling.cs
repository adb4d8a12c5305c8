namespace ChatVector.Core.Inference;

/// <summary>
/// config.json's <c>rope_scaling</c>: <c>linear</c> (every frequency divided by Factor) or <c>llama3</c>
/// (long wavelengths divided by Factor, short ones kept, a smooth blend between).
/// </summary>
public sealed record RopeScaling(
    string Type,
    double Factor,
    double LowFreqFactor = 1,
    double HighFreqFactor = 4,
    double OriginalMaxPositionEmbeddings = 8192);
