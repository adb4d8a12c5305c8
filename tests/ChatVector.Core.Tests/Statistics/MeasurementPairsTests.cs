using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Statistics;
using ChatVector.Core.Tensors;
using ChatVector.Core.Tests.Format;
using Xunit;

namespace ChatVector.Core.Tests.Statistics;

public class MeasurementPairsTests
{
    private static ITensorSource Tensor(TempDir dir, string file, string name, long[] shape)
    {
        var path = RawSafeTensorFile.WriteTo(dir, file, RawSafeTensorFile.Valid([new RawTensor(name, "F32", shape)]));
        return new StoredTensorSource(StoredModel.Open(path).Tensors[0]);
    }

    [Fact]
    public void The_reference_tensor_must_match_name_and_shape()
    {
        using var dir = new TempDir();
        var measured = Tensor(dir, "m.safetensors", "w", [2, 3]);
        var pairs = new MeasurementPairs(StoredModel.Open(RawSafeTensorFile.WriteTo(dir, "ref.safetensors",
            RawSafeTensorFile.Valid([new RawTensor("w", "F32", [3, 2]), new RawTensor("x", "F32", [2, 3])]))));

        var byShape = pairs.ReferenceFor(measured);
        Assert.Null(byShape.Source);
        Assert.Contains("no tensor of that name and shape", byShape.Reason);
        Assert.Equal("x", pairs.ReferenceFor(Tensor(dir, "x.safetensors", "x", [2, 3])).Source?.Name);
        Assert.Equal(new MeasurementPairs(null).ReferenceFor(measured), new Companion(null, null));
    }

    [Fact]
    public void A_saved_vector_finds_its_base_tensor_through_its_provenance()
    {
        using var dir = new TempDir();
        var basePath = RawSafeTensorFile.WriteTo(dir, "base.safetensors", RawSafeTensorFile.Valid([new RawTensor("w", "F32", [4])]));
        var vector = Tensor(dir, "cv.safetensors", "w", [4]);
        var pairs = new MeasurementPairs(null);

        var found = pairs.BaseFor(vector, new VectorProvenance(basePath, "chat", null, null));
        Assert.Equal(basePath, Assert.IsType<StoredTensorSource>(found.Source).Stored.File.Path);

        var missing = pairs.BaseFor(vector, new VectorProvenance(dir.File("gone"), "chat", null, null));
        Assert.Null(missing.Source);
        Assert.Contains("cannot be opened", missing.Reason);
        Assert.Null(pairs.BaseFor(vector, null).Source);
    }
}
