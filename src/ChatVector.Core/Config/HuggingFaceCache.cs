namespace ChatVector.Core.Config;

/// <summary>
/// Finds a Hugging Face model id (<c>org/name</c>, or <c>org/name@revision</c>) in the local Hugging Face cache, as
/// huggingface_hub lays it out: <c>models--org--name/refs/&lt;revision&gt;</c> holds a commit, whose files are in
/// <c>snapshots/&lt;commit&gt;</c> (a revision that is itself a commit names its snapshot). Nothing is downloaded.
/// </summary>
public static class HuggingFaceCache
{
    /// <summary>Where the cache may be, in huggingface_hub's order: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub.</summary>
    public static IReadOnlyList<string> Roots()
    {
        var roots = new List<string>();
        if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hub) roots.Add(hub);
        if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home) roots.Add(Path.Combine(home, "hub"));
        roots.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub"));
        return roots.Distinct().ToList();
    }

    /// <summary>Whether <paramref name="reference"/> reads as a model id rather than a path: org/name, no path prefix.</summary>
    public static bool LooksLikeId(string reference)
    {
        string id = reference.Split('@')[0];
        var parts = id.Split('/');
        return parts.Length == 2 && parts.All(p => p.Length > 0 && p != "." && p != "..") && !Path.IsPathRooted(id) && !id.Contains('\\');
    }

    /// <summary>The snapshot folder of <paramref name="reference"/>, or null with the folders looked in.</summary>
    public static string? Find(string reference, out IReadOnlyList<string> lookedIn)
    {
        var (id, revision) = reference.Split('@') is [var i, var r] ? (i, r) : (reference, "main");
        string folder = "models--" + id.Replace("/", "--", StringComparison.Ordinal);
        var looked = new List<string>();
        lookedIn = looked;
        foreach (var root in Roots())
        {
            string model = Path.Combine(root, folder);
            looked.Add(model);
            if (!Directory.Exists(model)) continue;
            string refFile = Path.Combine(model, "refs", revision);
            string commit = File.Exists(refFile) ? File.ReadAllText(refFile).Trim() : revision;
            string snapshot = Path.Combine(model, "snapshots", commit);
            if (Directory.Exists(snapshot)) return snapshot;
        }
        return null;
    }
}
