using System.Collections.Concurrent;
using System.Numerics;

namespace ChatVector.Core.Tensors;

/// <summary>
/// Reusable chunk-sized arrays shared by all threads. Unlike <see cref="System.Buffers.ArrayPool{T}"/>, a returned
/// array never stays in the returning thread's own slot, so the short-lived threads of a selection pass hand their
/// buffers on instead of leaving megabytes of garbage behind (which the GC frees late, as resident memory grows).
/// </summary>
public static class ScratchArrays<T>
{
    private static readonly ConcurrentDictionary<int, ConcurrentStack<T[]>> Free = new();

    /// <summary>An array of at least <paramref name="minimumLength"/> elements (a power of two), contents undefined.</summary>
    public static T[] Rent(int minimumLength)
    {
        int length = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(minimumLength, 64));
        return Free.TryGetValue(length, out var stack) && stack.TryPop(out var array) ? array : GC.AllocateUninitializedArray<T>(length);
    }

    public static void Return(T[] array) => Free.GetOrAdd(array.Length, _ => new ConcurrentStack<T[]>()).Push(array);
}
