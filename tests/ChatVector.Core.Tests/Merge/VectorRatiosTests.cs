using ChatVector.Core.Export;
using ChatVector.Core.Tensors;
using ChatVector.Core.Merge;
using Xunit;

namespace ChatVector.Core.Tests.Merge;

public class VectorRatiosTests
{
    private static Dictionary<string, string> Saved(params (string Name, double? Ratio)[] tensors) =>
        VectorRatios.ToMetadata(tensors) is { } value ? new() { [VectorRatios.MetadataKey] = value } : [];

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0 / 3)]
    [InlineData(-2.5e-7)]
    public void One_ratio_for_all_is_one_number_read_back_bit_identical(double ratio)
    {
        var metadata = Saved(("a", ratio), ("b", ratio));
        Assert.Equal(BitConverter.DoubleToInt64Bits(ratio), BitConverter.DoubleToInt64Bits(VectorRatios.Read(metadata, "b")!.Value));
        Assert.DoesNotContain("{", metadata[VectorRatios.MetadataKey]);
    }

    [Fact]
    public void Different_ratios_are_kept_per_tensor()
    {
        var metadata = Saved(("a", 0.25), ("b", 0.5), ("c", null));
        Assert.Equal(0.25, VectorRatios.Read(metadata, "a"));
        Assert.Equal(0.5, VectorRatios.Read(metadata, "b"));
        Assert.Null(VectorRatios.Read(metadata, "c"));
    }

    [Fact]
    public void Different_ratios_under_one_name_are_refused_by_name()
    {
        var e = Assert.Throws<DuplicateTensorNamesException>(() => VectorRatios.ToMetadata([("a", 0.5), ("b", 0.5), ("a", 0.7)]));
        Assert.Equal(["a"], e.Names);
    }

    [Fact]
    public void No_ratio_no_entry_and_a_malformed_entry_reads_as_none()
    {
        Assert.Empty(Saved(("a", null)));
        Assert.Null(VectorRatios.Read(new Dictionary<string, string> { [VectorRatios.MetadataKey] = "half" }, "a"));
        Assert.Null(VectorRatios.Read(new Dictionary<string, string>(), "a"));
    }
}
