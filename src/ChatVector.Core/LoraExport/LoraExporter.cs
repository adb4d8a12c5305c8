using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.Tensors;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using TorchSharp;
using static TorchSharp.torch;
// PEFT's tensor names have one owner, the reader's side: what is written here is what Get-LoraVector parses.
using PeftNames = ChatVector.Core.Lora.LoraTensorNames;

namespace ChatVector.Core.LoraExport;

/// <summary>One tensor of the vector as the adapter holds it: its rank and the share of the vector's ‖v‖² kept (1 for a whole tensor).</summary>
public sealed record LoraTensorReport(string Name, LoraTensorKind Kind, int Rank, double KeptEnergy, string? Reason);

/// <summary>How far an export is: tensors factored or copied of the total.</summary>
public sealed record LoraProgress(int Done, int Total, string Current);

/// <summary>What an export wrote.</summary>
public sealed record LoraExportOutcome(AdapterConfig Config, IReadOnlyList<LoraTensorReport> Tensors, IReadOnlyList<string> Warnings);

/// <summary>
/// Writes a PEFT LoRA adapter folder from a vector: each 2-D weight factored by a truncated SVD of its float32
/// delta (A = √S·Vh, B = U·√S, so scaling is 1), whole tensors copied in chunks. All or nothing: the folder is
/// staged beside the target and renamed into place once complete.
///
/// Memory: one weight at a time. The weight being factored is held whole in float32 (rows × columns × 4 bytes:
/// 235 MB for 4096 × 14336), plus, for the randomized SVD, a few rows × (rank + 16) and columns × (rank + 16)
/// float32 panels; an exact SVD adds LAPACK's copies, about three times the weight. The factors of each weight go
/// to a scratch file in the staging folder as they are made, since the file's header (every factor's shape) is
/// known only when every rank is; then the adapter file is written from it.
/// </summary>
public static class LoraExporter
{
    public const string WeightsFileName = "adapter_model.safetensors";
    /// <summary>Metadata key of the kept share of ‖v‖² per module, a JSON object.</summary>
    public const string KeptEnergyKey = "chatvector.lora.kept_energy";
    /// <summary>Metadata key naming how the factors were found.</summary>
    public const string SvdKey = "chatvector.lora.svd";
    private const int ChunkElements = 1 << 20;
    private const string ScratchFileName = ".factors.scratch";

    /// <summary>The adapter's tensor names for a factored module, as Get-LoraVector's reader parses them (<see cref="PeftNames"/>).</summary>
    public static (string A, string B) FactorNames(string module, LoraTensorKind kind) => kind == LoraTensorKind.LoraEmbedding
        ? (PeftNames.EmbeddingA(module), PeftNames.EmbeddingB(module))
        : (PeftNames.LinearA(module), PeftNames.LinearB(module));

    /// <summary>The adapter's tensor name of a whole tensor in modules_to_save.</summary>
    public static string WholeName(string tensorName) => PeftNames.Whole(tensorName);

    public static LoraExportOutcome Export(LoraExportRequest request, IReadOnlyList<LoraPlanItem> plan, ComputeContext context, Action<LoraProgress>? progress = null)
    {
        var cancellation = context.Cancellation;
        using var staged = StagedTarget.Begin(request.TargetFolder, isFolder: true, request.Force);
        var scratchPath = Path.Combine(staged.StagingPath, ScratchFileName);
        var factored = new List<(LoraPlanItem Item, FactorPair Pair)>();
        var reports = new List<LoraTensorReport>();
        int total = plan.Count(i => i.Kind != LoraTensorKind.Skipped), done = 0;
        using (var scratch = new FileStream(scratchPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
        {
            foreach (var item in plan.Where(i => i.Kind is LoraTensorKind.Lora or LoraTensorKind.LoraEmbedding))
            {
                cancellation.ThrowIfCancellationRequested();
                progress?.Invoke(new LoraProgress(done, total, item.Name));
                var (pair, report) = Factor(item, request, scratch, context);
                reports.Add(report);
                if (pair is not null) factored.Add((item, pair));
                done++;
            }
            scratch.Flush();
            var wholes = plan.Where(i => i.Kind == LoraTensorKind.Whole).ToList();
            reports.AddRange(wholes.Select(w => new LoraTensorReport(w.Name, LoraTensorKind.Whole, 0, 1, w.Reason)));
            reports.AddRange(plan.Where(i => i.Kind == LoraTensorKind.Skipped).Select(s => new LoraTensorReport(s.Name, LoraTensorKind.Skipped, 0, 0, s.Reason)));
            if (factored.Count == 0)
                throw new ArgumentException("Every selected weight's vector is zero (or under -SingularValueThreshold): the adapter would change nothing, so none was written.");

            var declarations = new List<TensorDeclaration>();
            var writers = new Dictionary<string, Action<Stream>>();
            foreach (var (item, pair) in factored)
            {
                var (a, b) = FactorNames(item.Module, item.Kind);
                declarations.Add(new TensorDeclaration(a, DType.F32, pair.AShape));
                declarations.Add(new TensorDeclaration(b, DType.F32, pair.BShape));
                writers[a] = output => CopyRange(scratch, pair.AOffset, pair.ABytes, output);
                writers[b] = output => CopyRange(scratch, pair.BOffset, pair.BBytes, output);
            }
            foreach (var whole in wholes)
            {
                var dtype = WholeDType(whole);
                declarations.Add(new TensorDeclaration(WholeName(whole.Name), dtype, whole.Vector.Shape));
                writers[WholeName(whole.Name)] = output =>
                {
                    progress?.Invoke(new LoraProgress(done++, total, whole.Name));
                    WriteWhole(whole, dtype, output, context);
                };
            }

            var moduleRanks = factored.ToDictionary(f => f.Item.Module, f => f.Pair.Rank);
            var config = AdapterConfig.For(moduleRanks, wholes.Select(w => w.Module).ToList(), request.BaseModelPath);
            var metadata = new Dictionary<string, string>(request.Metadata)
            {
                [KeptEnergyKey] = KeptEnergyJson(reports),
                [SvdKey] = request.ExactSvd ? "exact" : $"randomized where rank + {TruncatedSvd.Oversampling} is at most a quarter of the smaller side " +
                    $"({TruncatedSvd.Oversampling} extra columns, {TruncatedSvd.PowerIterations} power iterations), exact otherwise",
            };
            var prepared = SafeTensorWriter.Prepare(declarations, metadata);
            SafeTensorWriter.Write(Path.Combine(staged.StagingPath, WeightsFileName), prepared, (tensor, output) => writers[tensor.Name](output),
                overwrite: false, cancellation);
            scratch.Close();
            File.Delete(scratchPath);
            File.WriteAllText(Path.Combine(staged.StagingPath, AdapterConfig.FileName), config.ToJson(), new UTF8Encoding(false));
            cancellation.ThrowIfCancellationRequested();
            staged.Commit();
            progress?.Invoke(new LoraProgress(total, total, ""));
            return new LoraExportOutcome(config, reports, staged.Warnings);
        }
    }

    /// <summary>Where a weight's two factors lie in the scratch file.</summary>
    private sealed record FactorPair(int Rank, long[] AShape, long[] BShape, long AOffset, long ABytes, long BOffset, long BBytes);

    /// <summary>One weight: held in float32, its truncated SVD, the rank the rule keeps, the factors appended to the scratch file.</summary>
    private static (FactorPair?, LoraTensorReport) Factor(LoraPlanItem item, LoraExportRequest request, FileStream scratch, ComputeContext context)
    {
        using var scope = NewDisposeScope();
        var (matrix, energy) = LoadFloat32(item.Vector, context);
        long rows = matrix.shape[0], columns = matrix.shape[1];
        int cap = request.Rank.CapFor(rows, columns);
        using var svd = TruncatedSvd.Compute(matrix, cap, request.ExactSvd, SeedOf(item.Name));
        matrix.Dispose();
        var singular = svd.S.data<float>().ToArray();
        int rank = request.Rank.Choose(singular, energy);
        double kept = 0;
        for (int i = 0; i < rank; i++) kept += (double)singular[i] * singular[i];
        double share = energy > 0 ? Math.Min(1, kept / energy) : 0;
        if (rank == 0)
            return (null, new LoraTensorReport(item.Name, LoraTensorKind.Skipped, 0, 0, energy > 0 ? "no singular value passes the rule" : "its vector is zero"));
        var root = svd.S.narrow(0, 0, rank).sqrt();
        var u = svd.U.narrow(1, 0, rank);
        var vh = svd.Vh.narrow(0, 0, rank);
        // Linear: ΔW = B·A with A = √S·Vh (rank × in), B = U·√S (out × rank).
        // Embedding: PEFT applies (B·A)ᵀ, so B·A = Δᵀ = Vhᵀ·S·Uᵀ: A = √S·Uᵀ (rank × vocabulary), B = Vhᵀ·√S (hidden × rank).
        var (a, b) = item.Kind == LoraTensorKind.LoraEmbedding
            ? (u.t().mul(root.unsqueeze(1)), vh.t().mul(root.unsqueeze(0)))
            : (vh.mul(root.unsqueeze(1)), u.mul(root.unsqueeze(0)));
        long aOffset = scratch.Position;
        WriteFloats(a.contiguous(), scratch);
        long bOffset = scratch.Position;
        WriteFloats(b.contiguous(), scratch);
        var pair = new FactorPair(rank, a.shape, b.shape, aOffset, bOffset - aOffset, bOffset, scratch.Position - bOffset);
        return (pair, new LoraTensorReport(item.Name, item.Kind, rank, share, null));
    }

    /// <summary>The whole tensor in float32, a chunk at a time, and its squared Frobenius norm (float64 sums).</summary>
    private static (Tensor Matrix, double Energy) LoadFloat32(ITensorSource vector, ComputeContext context)
    {
        if (vector is IPrecomputed precomputed) precomputed.Precompute(context);
        var matrix = empty(vector.Shape, ScalarType.Float32);
        var flat = matrix.view(-1);
        var direct = vector is IFloat32Source { CanReadFloat32: true } float32 ? float32 : null;
        double energy = 0;
        for (long first = 0; first < vector.ElementCount; first += ChunkElements)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            long count = Math.Min(ChunkElements, vector.ElementCount - first);
            using var slice = flat.narrow(0, first, count);
            if (direct is not null) direct.ReadFloat32(first, TensorSpans.Floats(slice), context);
            else
            {
                using var chunk = vector.ReadChunk(first, count, context);
                slice.copy_(chunk);
            }
            energy += SumOfSquares(TensorSpans.Floats(slice));
        }
        if (!double.IsFinite(energy))
            throw new InvalidDataException($"{vector.Name}: the vector holds NaN or Inf values; no SVD of it exists.");
        return (matrix, energy);
    }

    private static double SumOfSquares(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (var v in values) sum += (double)v * v;
        return sum;
    }

    /// <summary>A seed for the random projection from the tensor's name: the same weight gets the same factors on every run.</summary>
    private static long SeedOf(string name) => (long)(XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(name)) & 0x7FFF_FFFF_FFFF_FFFF);

    private static void WriteFloats(Tensor tensor, Stream output)
    {
        var floats = TensorSpans.Floats(tensor);
        output.Write(MemoryMarshal.AsBytes(floats));
    }

    private static void CopyRange(FileStream scratch, long offset, long length, Stream output)
    {
        scratch.Position = offset;
        var buffer = new byte[Math.Min(length, 1 << 20)];
        while (length > 0)
        {
            int read = scratch.Read(buffer, 0, (int)Math.Min(buffer.Length, length));
            if (read == 0) throw new IOException($"{scratch.Name}: the factors' scratch file ended early.");
            output.Write(buffer, 0, read);
            length -= read;
        }
    }

    /// <summary>A whole tensor keeps its base's dtype (base + vector rounded once); a chat model's tensor its own.</summary>
    private static DType WholeDType(LoraPlanItem whole) =>
        whole.Base is null ? whole.Vector.DType : whole.Base.DType is DType.BF16 or DType.F16 or DType.F32 or DType.F64 ? whole.Base.DType : DType.F32;

    /// <summary>base + vector in float32 (float64 for F64), a chunk at a time, rounded to the output dtype.</summary>
    private static void WriteWhole(LoraPlanItem whole, DType dtype, Stream output, ComputeContext context)
    {
        var source = whole.Vector;
        var buffer = new byte[(long)ChunkElements * 8];
        for (long first = 0; first < source.ElementCount; first += ChunkElements)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            long count = Math.Min(ChunkElements, source.ElementCount - first);
            int bytes = (int)dtype.ByteSize(count)!.Value;
            if (whole.Base is null)
            {
                source.CopyBytes(dtype.ByteSize(first)!.Value, buffer.AsSpan(0, bytes), context);
            }
            else
            {
                using var scope = NewDisposeScope();
                var accumulator = TorchTypes.ToScalarType(TorchTypes.AccumulatorFor([source.DType, whole.Base.DType]), source.Name);
                var sum = whole.Base.ReadChunk(first, count, context).to(accumulator).add_(source.ReadChunk(first, count, context).to(accumulator));
                TorchTypes.CopyOut(sum.to(TorchTypes.ToScalarType(dtype, source.Name)), buffer.AsSpan(0, bytes));
            }
            output.Write(buffer, 0, bytes);
        }
    }

    private static string KeptEnergyJson(IEnumerable<LoraTensorReport> reports) =>
        new JObject(reports.Where(r => r.Kind is LoraTensorKind.Lora or LoraTensorKind.LoraEmbedding)
            .Select(r => new JProperty(r.Name, Math.Round(r.KeptEnergy, 9)))).ToString(Formatting.None);
}
