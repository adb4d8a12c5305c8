namespace ChatVector.Core.Format;

/// <summary>The element types safetensors defines, named as in the file header.</summary>
public enum DType
{
    BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
    I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64, C64,
    F4, F6_E2M3, F6_E3M2,
}

/// <summary>Sizes and kinds of <see cref="DType"/> values.</summary>
public static class DTypes
{
    /// <summary>Bits per element, as the format specification lists them.</summary>
    public static int Bits(this DType dtype) => dtype switch
    {
        DType.BOOL or DType.U8 or DType.I8 or DType.F8_E5M2 or DType.F8_E4M3 or DType.F8_E8M0
            or DType.F8_E4M3FNUZ or DType.F8_E5M2FNUZ => 8,
        DType.I16 or DType.U16 or DType.F16 or DType.BF16 => 16,
        DType.I32 or DType.U32 or DType.F32 => 32,
        DType.I64 or DType.U64 or DType.F64 or DType.C64 => 64,
        DType.F4 => 4,
        DType.F6_E2M3 or DType.F6_E3M2 => 6,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Alignment used to order tensors in a file: the element size in bytes, at least 1.</summary>
    public static int Alignment(this DType dtype) => Math.Max(1, dtype.Bits() / 8);

    /// <summary>Byte size of <paramref name="elements"/> elements, or null when it overflows or is not a whole number of bytes.</summary>
    public static long? ByteSize(this DType dtype, long elements)
    {
        if (elements < 0) return null;
        try
        {
            long bits = checked(elements * dtype.Bits());
            return bits % 8 == 0 ? bits / 8 : null;
        }
        catch (OverflowException) { return null; }
    }

    /// <summary>Floating-point types the merge arithmetic supports (libtorch has them).</summary>
    public static bool IsComputable(this DType dtype) =>
        dtype is DType.F16 or DType.BF16 or DType.F32 or DType.F64;

    /// <summary>Integer and bool tensors are buffers (position ids, masks), not weights.</summary>
    public static bool IsIntegerOrBool(this DType dtype) =>
        dtype is DType.BOOL or DType.U8 or DType.I8 or DType.I16 or DType.U16 or DType.I32
            or DType.U32 or DType.I64 or DType.U64;

    public static bool TryParse(string? text, out DType dtype) =>
        Enum.TryParse(text, ignoreCase: false, out dtype) && Enum.IsDefined(dtype) && text == dtype.ToString();
}
