using ChatVector.PowerShell.Output;

namespace ChatVector.PowerShell.Handles;

/// <summary>
/// Tensor handles arriving on the pipeline, grouped into models as they come: each producer's handles are one model
/// (<see cref="HandleModel"/>). Shared by the cmdlets that run a model given as handles (Measure-ChatVectorModel,
/// Invoke-ChatVectorModel), so both see a merge piped to them as the one merged model.
/// </summary>
internal sealed class HandleModelGroups
{
    private HandleModel? _pending;

    /// <summary>Adds <paramref name="handle"/>; returns the model it closes (the one before it), or null while the model goes on.</summary>
    public HandleModel? Add(TensorHandle handle)
    {
        if (_pending?.TryAdd(handle) == true) return null;
        var closed = _pending;
        _pending = HandleModel.Start(handle);
        return closed;
    }

    /// <summary>The model still being gathered, or null; the groups are then empty.</summary>
    public HandleModel? Finish()
    {
        var last = _pending;
        _pending = null;
        return last;
    }
}
