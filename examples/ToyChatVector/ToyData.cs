namespace ToyChatVector;

/// <summary>
/// The held-out B evaluation sets and the small B instruction set for cp+FT, all drawn from the seed.
/// Written as text files so the PowerShell side evaluates exactly the same prompts: prompts.txt (one
/// formatted prompt a line), answers.txt (the exact answer of each), text.txt (held-out B running text).
/// </summary>
public sealed record ToyData(IReadOnlyList<IReadOnlyList<string>> FtSentences, IReadOnlyList<IReadOnlyList<string>> Prompts, IReadOnlyList<string> Text)
{
    public static ToyData Make(int seed, ToySize size)
    {
        var ft = Distinct(new Random(Stream(seed, 4)), size.FtExamples, []);
        var held = Distinct(new Random(Stream(seed, 5)), size.Prompts, ft.Select(Key).ToHashSet());
        var textRandom = new Random(Stream(seed, 6));
        var text = Enumerable.Range(0, size.TextLines).Select(_ => string.Join(' ', ToyLanguage.B.Text(textRandom, 40))).ToList();
        return new ToyData(ft, held, text);
    }

    /// <summary>A separate random stream per purpose, so changing one set's size leaves the others as they were.</summary>
    public static int Stream(int seed, int purpose) => unchecked(seed * 7919 + purpose * 104729);

    public void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "prompts.txt"), Prompts.Select(ChatFormat.Prompt));
        File.WriteAllLines(Path.Combine(folder, "answers.txt"), Prompts.Select(s => string.Join(' ', s)));
        File.WriteAllLines(Path.Combine(folder, "text.txt"), Text);
    }

    public static (string[] Prompts, string[] Answers, string[] Text) Read(string folder) =>
        (File.ReadAllLines(Path.Combine(folder, "prompts.txt")), File.ReadAllLines(Path.Combine(folder, "answers.txt")),
         File.ReadAllLines(Path.Combine(folder, "text.txt")));

    private static List<IReadOnlyList<string>> Distinct(Random random, int count, HashSet<string> exclude)
    {
        var result = new List<IReadOnlyList<string>>();
        var seen = new HashSet<string>(exclude);
        while (result.Count < count)
        {
            var sentence = ToyLanguage.B.Sentence(random);
            if (seen.Add(Key(sentence))) result.Add(sentence);
        }
        return result;
    }

    private static string Key(IReadOnlyList<string> sentence) => string.Join(' ', sentence);
}
