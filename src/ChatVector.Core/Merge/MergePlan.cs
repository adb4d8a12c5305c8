using ChatVector.Core.Tensors;

namespace ChatVector.Core.Merge;

/// <summary>
/// The lazy result of planning a merge: one output per tensor of the model, in the model's order,
/// plus what the user should hear about (notes: verbose; warnings; problems: nothing may be written).
/// Nothing has been computed yet.
/// </summary>
public sealed record MergePlan(
    IReadOnlyList<ITensorSource> Outputs,
    IReadOnlyList<string> Notes,
    IReadOnlyList<string> UnusedVectors,
    IReadOnlyList<string> Problems,
    MergeRecipe Recipe,
    IReadOnlyList<string> Warnings);
