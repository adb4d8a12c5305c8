using ChatVector.Core.Format;
using ChatVector.Core.Kernels;
using ChatVector.Core.Tensors;
using TorchSharp;

namespace ChatVector.Core.Lora;

/// <summary>
/// A module's change, scaling·B·A (transposed for embeddings and fan_in_fan_out layers), under the model tensor's name and
/// shape, in float32. A chunk is computed from the rows it covers: those rows of the left factor times the whole right
/// factor (rank × columns), so no more than a chunk's rows of the delta ever exist, whatever the tensor's size.
/// </summary>
public sealed class LoraDeltaTensor : ComputedTensorSource
{
    public LoraDeltaTensor(LoraModule module)
        : base(module.Target, DType.F32, module.DeltaShape)
    {
        Module = module;
        A = new StoredTensorSource(module.A);
        B = new StoredTensorSource(module.B);
    }

    public LoraModule Module { get; }
    private StoredTensorSource A { get; }
    private StoredTensorSource B { get; }

    private long Rows => Shape[0];
    private long Columns => Shape[1];

    protected override torch.Tensor Compute(long firstElement, long count, ComputeContext context)
    {
        long firstRow = firstElement / Columns, endRow = (firstElement + count + Columns - 1) / Columns;
        long rowCount = endRow - firstRow, skip = firstElement - firstRow * Columns;
        using var scope = torch.NewDisposeScope();
        // The product by the module's own kernel, not libtorch's mm: its BLAS gives other bits on other CPUs.
        var left = LeftRows(firstRow, rowCount, context).contiguous();
        var right = Right(context).contiguous();
        var product = torch.empty(rowCount * Columns, torch.ScalarType.Float32);
        LowRankProduct.Multiply(TensorSpans.Floats(left), TensorSpans.Floats(right), checked((int)Module.Rank), TensorSpans.Floats(product));
        // The scaling after the product, as PEFT applies it.
        using var scaling = Module.Scaling.ToScalar(); // explicit and kept alive: an implicit one can be finalized during the call
        product.mul_(scaling);
        var values = skip == 0 && product.NumberOfElements == count ? product : product.narrow(0, skip, count).clone();
        if (context.Device.type != DeviceType.CPU) values = values.to(context.Device);
        return values.MoveToOuterDisposeScope();
    }

    /// <summary>Rows [first, first + count) of the left factor, (count, r): B's rows, or, transposed, the columns of A.</summary>
    private torch.Tensor LeftRows(long first, long count, ComputeContext context)
    {
        long rank = Module.Rank;
        if (!Module.Transposed) return Float32Reads.Chunk(B, first * rank, count * rank, context).view(count, rank);
        long width = A.Shape[1];
        var columns = new torch.Tensor[rank];
        for (long k = 0; k < rank; k++) columns[k] = Float32Reads.Chunk(A, k * width + first, count, context);
        return torch.stack(columns).t();
    }

    /// <summary>The whole right factor, (r, columns): A, or, transposed, Bᵀ. A rank's worth of rows: small beside a chunk.</summary>
    private torch.Tensor Right(ComputeContext context)
    {
        long rank = Module.Rank;
        return Module.Transposed
            ? Float32Reads.Chunk(B, 0, B.ElementCount, context).view(B.Shape[0], rank).t()
            : Float32Reads.Chunk(A, 0, A.ElementCount, context).view(rank, A.Shape[1]);
    }
}
