namespace ToyChatVector;

/// <summary>
/// The held-out B evaluation sets and the small B instruction set for cp+FT, all drawn from the seed.
/// Written as text files so the PowerShell side evaluates exactly the same prompts: prompts.txt (one
/// formatted prompt a line), answers.txt (the exact answer of each), text.txt (held-out B running text).
/// </summary>
public sealed record ToyData(IReadOnlyList<IReadOnlyList<string>> FtSentences, IReadOnlyList<IReadOnlyList<string>> Prompts, IReadOnlyList<string> Text)
{
    public static ToyData Make(int seed, ToySize size) => Make(seed, size, ToyLanguage.B, 0);

    /// <summary>The same sets in language A (other random streams): chat's own score, the ceiling of the table.</summary>
    public static ToyData MakeReference(int seed, ToySize size) => Make(seed, size, ToyLanguage.A, 10);

    private static ToyData Make(int seed, ToySize size, ToyLanguage language, int streams)
    {
        var ft = Distinct(language, new Random(Stream(seed, streams + 4)), size.FtExamples, []);
        var held = Distinct(language, new Random(Stream(seed, streams + 5)), size.Prompts, ft.Select(Key).ToHashSet());
        var textRandom = new Random(Stream(seed, streams + 6));
        var text = Enumerable.Range(0, size.TextLines).Select(_ => string.Join(' ', language.Text(textRandom, 40))).ToList();
        return new ToyData(ft, held, text);
    }

    /// <summary>A separate random stream per purpose, so changing one set's size leaves the others as they were.</summary>
    public static int Stream(int seed, int purpose) => unchecked(seed * 7919 + purpose * 104729);

    public void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "prompts.txt"), Prompts.Select(ChatFormat.Prompt));
        File.WriteAllLines(Path.Combine(folder, "answers.txt"), Prompts.Select(s => string.Join(' ', ChatFormat.Answer(s))));
        File.WriteAllLines(Path.Combine(folder, "text.txt"), Text);
    }

    public static (string[] Prompts, string[] Answers, string[] Text) Read(string folder) =>
        (File.ReadAllLines(Path.Combine(folder, "prompts.txt")), File.ReadAllLines(Path.Combine(folder, "answers.txt")),
         File.ReadAllLines(Path.Combine(folder, "text.txt")));

    private static List<IReadOnlyList<string>> Distinct(ToyLanguage language, Random random, int count, HashSet<string> exclude)
    {
        var result = new List<IReadOnlyList<string>>();
        var seen = new HashSet<string>(exclude);
        while (result.Count < count)
        {
            var sentence = language.Sentence(random);
            if (seen.Add(Key(sentence))) result.Add(sentence);
        }
        return result;
    }

    private static string Key(IReadOnlyList<string> sentence) => string.Join(' ', sentence);
}
