namespace ToyChatVector;

/// <summary>
/// The instruction format: <c>&lt;user&gt; SENTENCE &lt;assistant&gt; SENTENCE &lt;eos&gt;</c>. The task is to
/// repeat the user's sentence, so an answer is judged exactly: in format when the model stops with eos after
/// an answer (and writes no chat token before it), exact when that answer is the sentence.
/// </summary>
public static class ChatFormat
{
    /// <summary>The same format as a Jinja chat template (tokenizer_config.json), for tools that render one.</summary>
    public const string JinjaTemplate =
        "{% for message in messages %}{% if message['role'] == 'user' %}<user> {{ message['content'] }} " +
        "{% elif message['role'] == 'assistant' %}<assistant> {{ message['content'] }} <eos> {% endif %}{% endfor %}" +
        "{% if add_generation_prompt %}<assistant>{% endif %}";

    public static string Prompt(IEnumerable<string> sentence) => $"{ToyVocabulary.User} {string.Join(' ', sentence)} {ToyVocabulary.Assistant}";

    /// <summary>A whole training example: prompt, answer and eos.</summary>
    public static string Example(IReadOnlyList<string> sentence) => $"{Prompt(sentence)} {string.Join(' ', Answer(sentence))} {ToyVocabulary.Eos}";

    /// <summary>copy: the whole sentence; subject: its subject noun phrase (the words before the verb).</summary>
    public static string Task { get; set; } = "subject";

    public static IReadOnlyList<string> Answer(IReadOnlyList<string> sentence) => Task switch
    {
        "copy" => sentence,
        "subject" => ToyLanguage.SubjectOf(sentence),
        _ => throw new ArgumentException($"Unknown task '{Task}': use copy or subject."),
    };

    /// <summary>Judges generated ids against the expected answer ids.</summary>
    public static (bool InFormat, bool Exact) Judge(IReadOnlyList<int> generated, IReadOnlyList<int> expected, ToyVocabulary vocabulary)
    {
        int eos = -1;
        for (int i = 0; i < generated.Count; i++)
        {
            if (generated[i] == vocabulary.EosId) { eos = i; break; }
            if (vocabulary.IsSpecial(generated[i])) return (false, false);
        }
        if (eos < 1) return (false, false);
        return (true, generated.Take(eos).SequenceEqual(expected));
    }
}
