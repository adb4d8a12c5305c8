using ChatVector.Core.Export;
using ChatVector.Core.Tensors;
using ChatVector.Core.Sparsify;
using Xunit;

namespace ChatVector.Core.Tests.Sparsify;

public class SparsifyProvenanceTests
{
    private static readonly SparsifyOptions Ties = new(SparsifyMethod.Magnitude, 0.3, 0.01, 0.15, 7, false);

    [Fact]
    public void Same_options_for_every_tensor_are_saved_once_and_read_back_for_any_name()
    {
        var value = SparsifyProvenance.ToMetadata([("a", Ties), ("b", Ties)]);
        Assert.Equal("""{"method":"magnitude","density":0.3,"gamma":0.01,"epsilon":0.15,"seed":7,"rescale":false}""", value);
        Assert.Equal(Ties, SparsifyProvenance.Read(value, "anything"));
    }

    [Fact]
    public void Per_tensor_densities_are_saved_by_name_and_described_as_a_range()
    {
        var value = SparsifyProvenance.ToMetadata([("a", Ties), ("b", Ties with { Density = 0.6 })]);
        Assert.Equal(0.6, SparsifyProvenance.Read(value, "b")!.Density);
        Assert.Null(SparsifyProvenance.Read(value, "c"));
        Assert.Equal("magnitude, density 0.3–0.6 per tensor, no rescale", SparsifyProvenance.Describe(value));
    }

    [Fact]
    public void A_name_twice_is_refused_by_name_whatever_the_options()
    {
        // The record is keyed by name: a repeated one cannot be saved (its JSON library refused it in its own words).
        var e = Assert.Throws<DuplicateTensorNamesException>(() => SparsifyProvenance.ToMetadata([("a", Ties), ("a", Ties with { Density = 0.6 }), ("b", Ties)]));
        Assert.Equal(["a"], e.Names);
        Assert.StartsWith("Tensor names must be unique in one vector; received more than once: a.", e.Message);
    }

    [Fact]
    public void Description_names_the_parameters_the_rule_uses()
    {
        Assert.Equal("della, density 0.5, epsilon 0.1, seed 3, rescaled by the keep probability",
            new SparsifyOptions(SparsifyMethod.Della, 0.5, 0.01, 0.1, 3, true).Describe());
        Assert.Equal("random, density 0.5, seed 3, rescaled to the L1 norm",
            new SparsifyOptions(SparsifyMethod.Random, 0.5, 0.01, 0.1, 3, true, RescaleNorm.L1).Describe());
        Assert.Equal("breadcrumbs, density 0.5, gamma 0.05, no rescale",
            new SparsifyOptions(SparsifyMethod.Breadcrumbs, 0.5, 0.05, 0.15, 3, false).Describe());
    }

    [Theory]
    [InlineData(-0.1, 0.01)]
    [InlineData(1.5, 0.01)]
    [InlineData(double.NaN, 0.01)]
    [InlineData(0.5, 2.0)]
    public void Options_outside_their_range_are_refused(double density, double gamma) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => (Ties with { Density = density, Gamma = gamma }).Validated("t"));
}
