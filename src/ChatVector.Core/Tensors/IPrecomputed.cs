namespace ChatVector.Core.Tensors;

/// <summary>
/// A source with work to do once before its first chunk: whole-tensor statistics (a magnitude trim's selection passes, a method's norms). The chunk stream
/// calls <see cref="Precompute"/> on the next tensor while the current one is computed and written, so that work
/// overlaps the writing instead of stalling it. Precomputing is optional: a source must work without it.
/// </summary>
public interface IPrecomputed
{
    /// <summary>Does the up-front work now (thread-safe; a failure is left for the first chunk to report).</summary>
    void Precompute(ComputeContext context);
}
