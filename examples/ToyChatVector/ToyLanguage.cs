namespace ToyChatVector;

/// <summary>
/// Two toy languages with one grammar and two lexicons: A's words are English-like, B's words are a
/// letter-substitution cipher of A's. They share structure (the same sentences, word for word) but no
/// surface token, which is the situation of Chat Vector: cp learned B's surface, chat learned to follow
/// instructions in A.
/// </summary>
public sealed class ToyLanguage
{
    // Word classes of the grammar. Sentence: DET [ADJ] NOUN VERB DET [ADJ] NOUN [PREP DET NOUN] .
    private static readonly string[] Determiners = ["the", "a", "every"];
    private static readonly string[] Adjectives = ["big", "small", "red", "green", "old", "young", "quiet", "happy"];
    private static readonly string[] Nouns =
        ["cat", "dog", "bird", "fox", "horse", "mouse", "farmer", "child", "teacher", "king", "river", "garden", "house", "tree", "stone", "boat"];
    private static readonly string[] Verbs = ["sees", "likes", "finds", "follows", "helps", "paints", "carries", "watches", "calls", "meets"];
    private static readonly string[] Prepositions = ["near", "under", "behind", "with"];

    /// <summary>The one punctuation token, shared by both languages (as real languages share digits and marks).</summary>
    public const string Stop = ".";

    // A fixed letter permutation: B's word for an A word. Fixed (not seeded) so B is the same language in every run.
    private const string Plain = "abcdefghijklmnopqrstuvwxyz";
    private const string Cipher = "qzkmwxbjvyrtnpsohgcfdeulia";

    public string Name { get; }

    /// <summary>One sentence in this many repeats a recent one.</summary>
    public static int RepeatEvery { get; set; } = 3;
    private readonly Func<string, string> _render;

    private ToyLanguage(string name, Func<string, string> render)
    {
        Name = name;
        _render = render;
    }

    public static ToyLanguage A { get; } = new("A", word => word);
    public static ToyLanguage B { get; } = new("B", Encipher);

    /// <summary>Every word of the language, in a fixed order (the tokenizer's vocabulary order).</summary>
    public IReadOnlyList<string> Words =>
        Determiners.Concat(Adjectives).Concat(Nouns).Concat(Verbs).Concat(Prepositions).Select(_render).ToList();

    /// <summary>One sentence drawn from the grammar, as words (the last is <see cref="Stop"/>).</summary>
    public List<string> Sentence(Random random)
    {
        var words = new List<string>();
        void NounPhrase(bool mayHaveAdjective)
        {
            words.Add(Pick(random, Determiners));
            if (mayHaveAdjective && random.Next(2) == 0) words.Add(Pick(random, Adjectives));
            words.Add(Pick(random, Nouns));
        }
        NounPhrase(true);
        words.Add(Pick(random, Verbs));
        NounPhrase(true);
        if (random.Next(3) == 0)
        {
            words.Add(Pick(random, Prepositions));
            NounPhrase(false);
        }
        var rendered = words.Select(_render).ToList();
        rendered.Add(Stop);
        return rendered;
    }

    /// <summary>Running text: sentences one after another, as words. One sentence in three repeats one of the
    /// last three (text repeats itself, as real text does), so pre-training teaches to copy from the context:
    /// the skill the instructions build on, as a real base model's in-context copying is.</summary>
    public List<string> Text(Random random, int minWords)
    {
        var words = new List<string>(minWords + 16);
        var recent = new List<List<string>>();
        while (words.Count < minWords)
        {
            var sentence = recent.Count > 0 && random.Next(RepeatEvery) == 0 ? recent[random.Next(recent.Count)] : Sentence(random);
            words.AddRange(sentence);
            recent.Add(sentence);
            if (recent.Count > 3) recent.RemoveAt(0);
        }
        return words;
    }

    /// <summary>The subject noun phrase of a sentence of either language: its words up to the first noun.</summary>
    public static IReadOnlyList<string> SubjectOf(IReadOnlyList<string> sentence)
    {
        var nouns = Nouns.Concat(Nouns.Select(Encipher)).ToHashSet();
        int noun = sentence.ToList().FindIndex(nouns.Contains);
        return sentence.Take(noun + 1).ToList();
    }

    private static string Pick(Random random, string[] words) => words[random.Next(words.Length)];

    private static string Encipher(string word) => new(word.Select(c => Cipher[Plain.IndexOf(c)]).ToArray());
}
