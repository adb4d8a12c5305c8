using TorchSharp;

namespace ChatVector.Core.Tensors;

/// <summary>Where and under which cancellation a chunk is computed.</summary>
public sealed record ComputeContext(torch.Device Device, CancellationToken Cancellation)
{
    public static ComputeContext Cpu(CancellationToken cancellation = default) => new(torch.CPU, cancellation);
}
