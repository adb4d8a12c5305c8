namespace ChatVector.Core.Config;

/// <summary>
/// The notes a plan gives for a config's parameters its method ignores (<see cref="Methods.MergeMethod.Ignores"/>): another
/// method's parameter, as mergekit's own configs give <c>weight</c> to slerp's or karcher's models, which it never reads.
/// </summary>
internal static class IgnoredParameters
{
    public static IEnumerable<string> Notes(MergeConfig config)
    {
        var places = new List<(string Name, string Where)>();
        places.AddRange(config.Parameters.Keys.Select(name => (name, "parameters")));
        places.AddRange(config.Models.SelectMany(m => m.Parameters.Keys.Select(name => (name, $"model '{m.Reference}'"))));
        foreach (var slice in config.Slices ?? [])
        {
            places.AddRange(slice.Parameters.Keys.Select(name => (name, $"slice at line {slice.Line}")));
            places.AddRange(slice.Sources.SelectMany(s => s.Model.Parameters.Keys.Select(name => (name, $"slice at line {slice.Line}, model '{s.Model.Reference}'"))));
        }
        return places.Where(p => config.Method.Ignores(p.Name)).GroupBy(p => p.Name)
            .Select(g => $"'{g.Key}' ({string.Join(", ", g.Select(p => p.Where).Distinct())}) is not a parameter of {config.Method.Name}: ignored, as mergekit ignores it.");
    }
}
