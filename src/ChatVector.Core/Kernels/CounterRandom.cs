using System.IO.Hashing;
using System.Numerics;
using System.Text;

namespace ChatVector.Core.Kernels;

/// <summary>
/// Uniform draws that depend only on (seed, tensor name, stream, element index): a counter-based generator (the
/// SplitMix64 finaliser applied to a per-tensor key plus the index), so any element's draw is computed on
/// its own and the bytes do not depend on chunking, threads, run or machine. The stream tells apart the models of one
/// merge, whose vectors share tensor names: each gets draws of its own, as mergekit draws a mask per model.
/// </summary>
public readonly struct CounterRandom
{
    private const ulong Golden = 0x9E37_79B9_7F4A_7C15UL;
    private readonly ulong _streamKey;

    /// <param name="stream">The model's place among a merge's models (0: the first, and the key of every draw before streams existed).</param>
    public CounterRandom(long seed, string tensorName, int stream = 0)
    {
        var nameHash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(tensorName));
        _streamKey = Mix(unchecked((ulong)seed) ^ nameHash ^ (stream == 0 ? 0 : Mix(Golden * (ulong)stream)));
    }

    /// <summary>A draw in [0, 1) with 53 random bits for element <paramref name="index"/>.</summary>
    public double Uniform(long index) => Bits53(index) * (1.0 / (1UL << 53));

    /// <summary>The 53 random bits behind <see cref="Uniform"/>: Uniform(i) = Bits53(i) · 2⁻⁵³.</summary>
    public ulong Bits53(long index) => Mix(State(index)) >> 11;

    /// <summary>
    /// What the finaliser mixes for element <paramref name="index"/>: Bits53(i) = <see cref="Bits53OfStates"/> of State(i).
    /// Element i + k's state is State(i) + k · Golden (mod 2⁶⁴, as the unchecked arithmetic here), so a loop over
    /// consecutive elements steps the states by <see cref="StateStride"/>, an add where a multiply was: AVX2 has no
    /// 64-bit multiply, each one is three 32-bit multiplies and their shifts and adds, once per draw.
    /// </summary>
    public ulong State(long index) => unchecked(_streamKey + ((ulong)index + 1) * Golden);

    /// <summary>State(i + <paramref name="elements"/>) − State(i), mod 2⁶⁴.</summary>
    public static ulong StateStride(int elements) => unchecked((ulong)elements * Golden);

    /// <summary><see cref="Bits53(long)"/> of elements [<paramref name="firstIndex"/>, + destination.Length), a SIMD vector at a time.</summary>
    [System.Runtime.CompilerServices.MethodImpl(HotLoop.Options)]
    public void Bits53Run(long firstIndex, Span<ulong> destination)
    {
        int i = 0, width = Vector<ulong>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Span<ulong> first = stackalloc ulong[width];
            for (int lane = 0; lane < width; lane++) first[lane] = State(firstIndex + lane);
            var states = new Vector<ulong>(first);
            var stride = new Vector<ulong>(StateStride(width));
            for (; i <= destination.Length - width; i += width, states += stride) Bits53OfStates(states).CopyTo(destination[i..]);
        }
        for (; i < destination.Length; i++) destination[i] = Bits53(firstIndex + i);
    }

    /// <summary><see cref="Bits53(long)"/> for a vector of states (<see cref="State"/>; the same integer operations, lane by lane).</summary>
    // Inlined into its hot caller (a DARE mask, compiled optimized from its first call): called, it would run
    // unoptimized until tiering reached it, its vector constructors as calls, in the loop over every element.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static Vector<ulong> Bits53OfStates(Vector<ulong> z)
    {
        z = (z ^ (z >> 30)) * new Vector<ulong>(0xBF58_476D_1CE4_E5B9UL);
        z = (z ^ (z >> 27)) * new Vector<ulong>(0x94D0_49BB_1331_11EBUL);
        return (z ^ (z >> 31)) >> 11;
    }

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>A fresh seed for a run that gave none (recorded in the provenance so it can be repeated).</summary>
    public static long NewSeed() => Random.Shared.NextInt64(0, long.MaxValue);
}
