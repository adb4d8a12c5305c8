namespace ChatVector.Core.Tensors;

/// <summary>
/// A source with work to do once before its first chunk (a magnitude trim's selection passes). The chunk stream
/// calls <see cref="Prepare"/> on the next tensor while the current one is computed and written, so that work
/// overlaps the writing instead of stalling it. Preparing is optional: a source must work without it.
/// </summary>
public interface IPreparable
{
    /// <summary>Does the up-front work now (thread-safe; a failure is left for the first chunk to report).</summary>
    void Prepare(ComputeContext context);
}
