using System.Globalization;
using TorchSharp;

namespace ChatVector.Core.Runtime;

/// <summary>Syntax of a device string, checked before libtorch is touched so typos fail fast.</summary>
internal static class DeviceSpec
{
    /// <summary>"cpu" (also null/empty), "cuda" (= cuda:0) or "cuda:N"; case-insensitive.</summary>
    public static (DeviceType Type, int Index) Parse(string? spec)
    {
        var s = spec?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(s) || s == "cpu") return (DeviceType.CPU, -1);
        if (s == "cuda") return (DeviceType.CUDA, 0);
        if (s.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(s.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            return (DeviceType.CUDA, index);
        throw new ArgumentException($"Unknown device '{spec}': use 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, ...).");
    }
}
