using TorchSharp;
using static TorchSharp.torch;

namespace ChatVector.Core.Inference;

/// <summary>RMSNorm as transformers computes it: normalised in float32, cast back, then scaled.</summary>
internal static class RmsNorm
{
    public static Tensor Apply(Tensor x, Tensor weight, double eps)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1L], keepdim: true) + eps);
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
