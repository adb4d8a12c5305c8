namespace ChatVector.Core.Config;

/// <summary>
/// A mergekit config that cannot run, found before any tensor is read: every problem, each naming the key, the model or
/// the parameter (and the config file's line where one is known).
/// </summary>
public sealed class MergeConfigException(string configPath, IReadOnlyList<string> problems)
    : Exception($"{configPath}: {(problems.Count == 1 ? problems[0] : $"{problems.Count} problems: " + string.Join(" ", problems.Select((p, i) => $"({i + 1}) {p}")))}")
{
    public string ConfigPath { get; } = configPath;
    public IReadOnlyList<string> Problems { get; } = problems;
}
